//! The value of one task in one run, and how its readers get it: moved to the last reader,
//! shared by reference, or cloned while others still need it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::dag::DagInner;
use crate::xcom::Value;

/// How many slots are made at once, on first use.
const CHUNK: usize = 64;

/// The value slots of a run, made a chunk at a time when first used: a value handed
/// straight to its reader never needs one, so a chain run touches none of this memory.
pub(crate) struct Slots {
    chunks: Box<[OnceLock<Box<[Slot]>>]>,
    /// For each slot's count of readers.
    dag: Arc<DagInner>,
}

impl Slots {
    pub(crate) fn new(dag: Arc<DagInner>) -> Self {
        let chunks = dag.plan.readers.len().div_ceil(CHUNK);
        Self {
            chunks: (0..chunks).map(|_| OnceLock::new()).collect(),
            dag,
        }
    }
}

impl std::ops::Index<usize> for Slots {
    type Output = Slot;

    #[inline]
    fn index(&self, slot: usize) -> &Slot {
        let chunk = self.chunks[slot / CHUNK].get_or_init(|| {
            let readers = &self.dag.plan.readers;
            let first = slot / CHUNK * CHUNK;
            readers[first..readers.len().min(first + CHUNK)]
                .iter()
                .map(|&readers| Slot::new(readers))
                .collect()
        });
        &chunk[slot % CHUNK]
    }
}

/// One task's output in a run.
pub(crate) struct Slot {
    value: Mutex<SlotValue>,
    /// Final reads still to come; counted down while `value` is locked.
    readers_left: AtomicU32,
}

/// What a slot holds.
pub(crate) enum SlotValue {
    /// The task has not produced a value (yet).
    Empty,
    Ready(Value),
    /// The value was handed to its readers and not kept.
    Released,
}

/// Why a reader could not get a value.
#[derive(Debug)]
pub(crate) enum ReadError {
    NoValue,
    Released,
    WrongType,
    StillShared,
}

impl Slot {
    pub(crate) fn new(readers: u32) -> Self {
        Self {
            value: Mutex::new(SlotValue::Empty),
            readers_left: AtomicU32::new(readers),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SlotValue> {
        self.value
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn put(&self, value: Value) {
        *self.lock() = SlotValue::Ready(value);
    }

    /// Takes one read: the shared value, and the slot's own reference too when this is the
    /// last reader and the value need not be kept. A reader that may still be retried
    /// (`final_read` false) only shares the value: its retry will need it again.
    pub(crate) fn read(&self, keep: bool, final_read: bool) -> Result<Value, ReadError> {
        let mut slot = self.lock();
        // Counted under the lock: the reader that counts last is also the last to look at
        // the value, so nobody finds it already handed on.
        let last = final_read && self.readers_left.fetch_sub(1, Ordering::AcqRel) == 1;
        match &*slot {
            SlotValue::Ready(value) if last && !keep => {
                match std::mem::replace(&mut *slot, SlotValue::Released) {
                    SlotValue::Ready(value) => Ok(value),
                    _ => unreachable!("matched Ready just above"),
                }
            }
            SlotValue::Ready(value) => Ok(value.clone()),
            SlotValue::Empty => Err(ReadError::NoValue),
            SlotValue::Released => Err(ReadError::Released),
        }
    }

    /// Reads the value by value: moved out when no one else holds it, else cloned.
    pub(crate) fn read_owned<T: Send + Sync + 'static>(
        &self,
        keep: bool,
        final_read: bool,
        clone: Option<fn(&T) -> T>,
    ) -> Result<T, ReadError> {
        let keep = keep && clone.is_some();
        Self::owned(self.read(keep, final_read)?, clone)
    }

    /// `value` as a `T` by value: moved out when no one else holds it, else cloned.
    #[inline(always)]
    pub(crate) fn owned<T: Send + Sync + 'static>(
        value: Value,
        clone: Option<fn(&T) -> T>,
    ) -> Result<T, ReadError> {
        let shared = match value.take::<T>() {
            Ok(value) => return Ok(value),
            Err(shared) => shared,
        };
        let typed = shared.downcast_ref::<T>().ok_or(ReadError::WrongType)?;
        clone
            .map(|clone| clone(typed))
            .ok_or(ReadError::StillShared)
    }

    /// Reads the value by reference, without copying it.
    pub(crate) fn read_shared<T: Send + Sync + 'static>(
        &self,
        keep: bool,
        final_read: bool,
    ) -> Result<Arc<T>, ReadError> {
        self.read(keep, final_read)?
            .downcast::<T>()
            .map_err(|_| ReadError::WrongType)
    }
}
