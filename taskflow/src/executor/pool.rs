//! The worker threads that run ready tasks of every run.
//!
//! A worker that finishes a task runs one newly ready successor itself (a continuation, so
//! a chain never touches the queue) and pushes the others in one batch. Sync task bodies run
//! on the workers; when every worker is stuck in a long task while work waits, a monitor adds
//! a worker, up to a maximum, so blocking tasks still run in parallel.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::run::RunState;

/// How long every worker must have been inside tasks, with work waiting, before one is added.
const STALL: Duration = Duration::from_millis(2);

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
    max_workers: usize,
}

struct Queue {
    jobs: VecDeque<Job>,
    idle: usize,
    workers: usize,
}

struct Job {
    run: Arc<RunState>,
    node: u32,
}

impl Pool {
    /// The process-wide pool: one worker per core to start with, at most 64.
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
                workers: core_workers,
            }),
            work_ready: Condvar::new(),
            stalled: Condvar::new(),
            taken: AtomicU64::new(0),
            max_workers,
        });
        for _ in 0..core_workers {
            spawn_worker(&shared);
        }
        let monitor = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("taskflow-monitor".into())
            .spawn(move || monitor.watch())
            .expect("the OS refused to start the taskflow monitor thread");
        Pool { shared }
    }

    /// Queues tasks of `run` that are ready to start.
    pub(crate) fn push(&self, run: &Arc<RunState>, nodes: impl IntoIterator<Item = u32>) {
        self.shared.push(run, nodes);
    }
}

fn spawn_worker(shared: &Arc<Shared>) {
    let shared = Arc::clone(shared);
    std::thread::Builder::new()
        .name("taskflow-worker".into())
        .spawn(move || shared.work())
        .expect("the OS refused to start a taskflow worker thread");
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Task bodies never run under this lock, so a poisoned lock holds consistent data.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, run: &Arc<RunState>, nodes: impl IntoIterator<Item = u32>) {
        let mut queue = self.lock();
        let before = queue.jobs.len();
        queue.jobs.extend(nodes.into_iter().map(|node| Job {
            run: Arc::clone(run),
            node,
        }));
        let added = queue.jobs.len() - before;
        let wake = added.min(queue.idle);
        let short = added > queue.idle;
        drop(queue);
        if wake == added && wake > 1 {
            self.work_ready.notify_all();
        } else {
            (0..wake).for_each(|_| self.work_ready.notify_one());
        }
        if short {
            self.stalled.notify_one();
        }
    }

    fn next_job(&self) -> Job {
        let mut queue = self.lock();
        loop {
            if let Some(job) = queue.jobs.pop_front() {
                self.taken.fetch_add(1, Ordering::Relaxed);
                return job;
            }
            queue.idle += 1;
            queue = self
                .work_ready
                .wait(queue)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            queue.idle -= 1;
        }
    }

    fn work(self: Arc<Self>) {
        let mut ready = Vec::new();
        loop {
            let Job { run, mut node } = self.next_job();
            loop {
                run.execute(node, &mut ready);
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
            while queue.jobs.is_empty() || queue.idle > 0 || queue.workers >= self.max_workers {
                queue = self
                    .stalled
                    .wait(queue)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            drop(queue);
            let taken = self.taken.load(Ordering::Relaxed);
            std::thread::sleep(STALL);
            let mut queue = self.lock();
            let stuck = !queue.jobs.is_empty()
                && queue.idle == 0
                && self.taken.load(Ordering::Relaxed) == taken;
            if stuck && queue.workers < self.max_workers {
                queue.workers += 1;
                drop(queue);
                spawn_worker(&self);
            }
        }
    }
}
