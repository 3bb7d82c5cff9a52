//! A worker's own queue of ready tasks, all of one run: the worker takes the newest from the
//! back (its successors stay on its cache), idle workers steal the older half from the
//! front, so a fan-out spreads over the workers without a shared lock per task.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::run::RunState;

pub(crate) struct LocalQueue {
    jobs: Mutex<Local>,
    /// Tasks in `jobs`, readable without the lock.
    len: AtomicUsize,
    /// Tasks this worker took from a queue (its own, the shared one, or another worker's):
    /// the monitor's sign of progress. Only the owner writes it.
    taken: AtomicU64,
}

#[derive(Default)]
struct Local {
    /// The run of the queued tasks; `None` when the queue is empty.
    run: Option<Arc<RunState>>,
    nodes: VecDeque<u32>,
}

impl LocalQueue {
    pub(crate) fn new() -> Self {
        Self {
            jobs: Mutex::default(),
            len: AtomicUsize::new(0),
            taken: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Local> {
        // Only queue operations run under this lock: a poisoned lock holds consistent data.
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tasks queued here.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::SeqCst)
    }

    /// Tasks taken so far.
    pub(crate) fn taken(&self) -> u64 {
        self.taken.load(Ordering::Relaxed)
    }

    /// Queues `nodes` of `run` (emptying `nodes`), unless the queue holds tasks of another
    /// run: then it returns `false` and leaves `nodes` alone.
    pub(crate) fn push(&self, run: &Arc<RunState>, nodes: &mut Vec<u32>) -> bool {
        let mut local = self.lock();
        match &local.run {
            Some(queued) if !Arc::ptr_eq(queued, run) => return false,
            Some(_) => {}
            None => local.run = Some(Arc::clone(run)),
        }
        local.nodes.extend(nodes.drain(..));
        self.len.store(local.nodes.len(), Ordering::SeqCst);
        true
    }

    /// The newest task, if its run is `run` (so the caller's handle serves it).
    #[inline]
    pub(crate) fn pop_of(&self, run: &Arc<RunState>) -> Option<u32> {
        if self.len() == 0 {
            return None;
        }
        let mut local = self.lock();
        if !local
            .run
            .as_ref()
            .is_some_and(|queued| Arc::ptr_eq(queued, run))
        {
            return None;
        }
        let node = local.nodes.pop_back()?;
        self.after_take(&mut local);
        Some(node)
    }

    /// The newest task and its run.
    pub(crate) fn pop(&self) -> Option<(Arc<RunState>, u32)> {
        if self.len() == 0 {
            return None;
        }
        let mut local = self.lock();
        let node = local.nodes.pop_back()?;
        Some((self.run_after_take(&mut local)?, node))
    }

    /// Takes the older half of the queued tasks (at least one) and their run; for another
    /// worker.
    pub(crate) fn steal_half(&self) -> Option<(Arc<RunState>, Vec<u32>)> {
        if self.len() == 0 {
            return None;
        }
        let mut local = self.lock();
        let half = local.nodes.len().div_ceil(2);
        if half == 0 {
            return None;
        }
        let nodes: Vec<u32> = local.nodes.drain(..half).collect();
        Some((self.run_after_take(&mut local)?, nodes))
    }

    /// Updates the length after a take; an emptied queue lets go of its run, returned.
    fn after_take(&self, local: &mut Local) -> Option<Arc<RunState>> {
        self.len.store(local.nodes.len(), Ordering::SeqCst);
        if local.nodes.is_empty() {
            local.run.take()
        } else {
            None
        }
    }

    /// [`LocalQueue::after_take`], and a handle to the taken tasks' run.
    fn run_after_take(&self, local: &mut Local) -> Option<Arc<RunState>> {
        match self.after_take(local) {
            Some(run) => Some(run),
            None => local.run.clone(),
        }
    }

    /// Counts a task taken by the owner, for the monitor.
    #[inline]
    pub(crate) fn took(&self) {
        self.taken.store(self.taken() + 1, Ordering::Relaxed);
    }
}
