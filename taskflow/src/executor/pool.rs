//! The worker threads that run ready tasks of every run.
//!
//! A worker that finishes a task runs one newly ready successor itself (a continuation, so
//! a chain never touches the queue) and pushes the others in one batch. Sync task bodies run
//! on the workers; when every worker is stuck in a long task while work waits, a monitor adds
//! a worker, up to a maximum, so blocking tasks still run in parallel. Workers beyond the
//! first ones leave again after a while without work.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::run::RunState;

/// How long every worker must have been inside tasks, with work waiting, before one is added.
const STALL: Duration = Duration::from_millis(2);

/// How long an added worker waits for work before it leaves.
const IDLE_EXIT: Duration = Duration::from_secs(10);

/// A handle to a pool of worker threads.
#[derive(Clone)]
pub(crate) struct Pool {
    shared: Arc<Shared>,
}

struct Shared {
    queue: Mutex<Queue>,
    work_ready: Condvar,
    stalled: Condvar,
    /// Jobs taken off the queue so far: the monitor's sign of progress.
    taken: AtomicU64,
    core_workers: usize,
    max_workers: usize,
}

struct Queue {
    jobs: VecDeque<Job>,
    /// Workers waiting for work.
    idle: usize,
    /// Wake-ups sent to idle workers that they have not acted on yet.
    waking: usize,
    workers: usize,
}

impl Queue {
    /// Idle workers no wake-up is on its way to.
    fn sleeping(&self) -> usize {
        self.idle.saturating_sub(self.waking)
    }
}

struct Job {
    run: Arc<RunState>,
    node: u32,
}

impl Pool {
    /// The process-wide pool: one worker per core to start with, at most 64 (or one per core
    /// on machines with more cores).
    pub(crate) fn global() -> &'static Pool {
        static POOL: OnceLock<Pool> = OnceLock::new();
        POOL.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            Pool::new(cores, cores.max(64))
        })
    }

    fn new(core_workers: usize, max_workers: usize) -> Pool {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                idle: 0,
                waking: 0,
                workers: 0,
            }),
            work_ready: Condvar::new(),
            stalled: Condvar::new(),
            taken: AtomicU64::new(0),
            core_workers,
            max_workers,
        });
        for _ in 0..core_workers {
            shared.add_worker();
        }
        let monitor = Arc::clone(&shared);
        let started = std::thread::Builder::new()
            .name("taskflow-monitor".into())
            .spawn(move || monitor.watch());
        if let Err(error) = started {
            eprintln!(
                "taskflow: no monitor thread ({error}); blocking tasks may wait for each other"
            );
        }
        Pool { shared }
    }

    /// Queues tasks of `run` that are ready to start.
    pub(crate) fn push(&self, run: &Arc<RunState>, nodes: impl IntoIterator<Item = u32>) {
        self.shared.push(run, nodes);
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Task bodies never run under this lock, so a poisoned lock holds consistent data.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts one more worker; false if the OS would not start a thread.
    fn add_worker(self: &Arc<Self>) -> bool {
        let index = {
            let mut queue = self.lock();
            queue.workers += 1;
            queue.workers
        };
        let shared = Arc::clone(self);
        let extra = index > self.core_workers;
        let started = std::thread::Builder::new()
            .name("taskflow-worker".into())
            .spawn(move || shared.work(extra));
        if started.is_err() {
            self.lock().workers -= 1;
        }
        started.is_ok()
    }

    fn push(&self, run: &Arc<RunState>, nodes: impl IntoIterator<Item = u32>) {
        let mut queue = self.lock();
        let before = queue.jobs.len();
        queue.jobs.extend(nodes.into_iter().map(|node| Job {
            run: Arc::clone(run),
            node,
        }));
        let added = queue.jobs.len() - before;
        if added == 0 {
            return;
        }
        let wake = added.min(queue.sleeping());
        queue.waking += wake;
        let short = added > wake;
        drop(queue);
        (0..wake).for_each(|_| self.work_ready.notify_one());
        if short {
            self.stalled.notify_one();
        }
    }

    /// The next job, or `None` when an added worker has waited long enough to leave.
    fn next_job(&self, extra: bool) -> Option<Job> {
        let mut queue = self.lock();
        loop {
            if let Some(job) = queue.jobs.pop_front() {
                self.taken.fetch_add(1, Ordering::Relaxed);
                return Some(job);
            }
            queue.idle += 1;
            let (guard, waited) = if extra {
                let (guard, result) = self
                    .work_ready
                    .wait_timeout(queue, IDLE_EXIT)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                (guard, result.timed_out())
            } else {
                (
                    self.work_ready
                        .wait(queue)
                        .unwrap_or_else(|poisoned| poisoned.into_inner()),
                    false,
                )
            };
            queue = guard;
            queue.idle -= 1;
            queue.waking = queue.waking.saturating_sub(1);
            if waited && queue.jobs.is_empty() {
                queue.workers -= 1;
                return None;
            }
        }
    }

    fn work(self: Arc<Self>, extra: bool) {
        let mut ready = Vec::new();
        while let Some(Job { run, mut node }) = self.next_job(extra) {
            loop {
                // Task bodies and callbacks are caught where they run; this catches a bug of
                // the executor itself, so that it fails the task instead of killing a worker.
                let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run.execute(node, &mut ready)
                }));
                if let Err(payload) = step {
                    run.executor_panicked(node, &*payload, &mut ready);
                }
                let Some(next) = ready.pop() else { break };
                if !ready.is_empty() {
                    self.push(&run, ready.drain(..));
                }
                node = next;
            }
        }
    }

    /// Adds a worker whenever work has waited for `STALL` while every worker was busy.
    fn watch(self: Arc<Self>) {
        loop {
            let mut queue = self.lock();
            while queue.jobs.is_empty() || queue.sleeping() > 0 || queue.workers >= self.max_workers
            {
                // The timeout is a backstop against a missed notification.
                let (guard, _) = self
                    .stalled
                    .wait_timeout(queue, STALL * 25)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                queue = guard;
            }
            drop(queue);
            let taken = self.taken.load(Ordering::Relaxed);
            std::thread::sleep(STALL);
            let queue = self.lock();
            let stuck = !queue.jobs.is_empty()
                && queue.sleeping() == 0
                && self.taken.load(Ordering::Relaxed) == taken
                && queue.workers < self.max_workers;
            drop(queue);
            if stuck && !self.add_worker() {
                eprintln!("taskflow: the OS would not start another worker thread");
                std::thread::sleep(STALL * 50);
            }
        }
    }
}
