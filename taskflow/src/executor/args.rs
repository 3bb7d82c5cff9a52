//! [`Args`]: how a task body reads its arguments in a run.

use std::sync::Arc;

use super::run::{Carried, RunState};
use super::slot::{ReadError, Slot};
use crate::TaskError;
use crate::dag::Features;
use crate::dag::Input;
use crate::task::context::Context;
use crate::xcom::{SharedArg, SharedOrNone, Value};

/// The arguments of one task try, read in parameter order by generated code.
#[doc(hidden)]
pub struct Args<'a> {
    run: &'a Arc<RunState>,
    node: u32,
    next: u32,
    try_number: u32,
    /// Whether no retry can follow this try (and the task is not a sensor, which reads its
    /// arguments again at each check), so the last reader may take a value.
    final_try: bool,
    /// A value handed to this try by the one before, which it reads instead of its slot.
    handed: &'a mut Option<Carried>,
}

impl<'a> Args<'a> {
    pub(crate) fn new(
        run: &'a Arc<RunState>,
        node: u32,
        try_number: u32,
        handed: &'a mut Option<Carried>,
    ) -> Self {
        let inputs = &run.dag.nodes[node as usize].inputs;
        let features = run.features(node);
        // A sensor reads its arguments again at each check.
        let final_try = !features.has(Features::SENSOR)
            && (inputs.is_empty()
                || !features.has(Features::RETRIES)
                || try_number > run.dag.option(node, |o| o.retries).unwrap_or(0));
        Self {
            run,
            node,
            next: inputs.start,
            try_number,
            final_try,
            handed,
        }
    }

    /// The arguments of mapped task `node`, read as they are for its expansion (once: the
    /// instances retry, not the expansion).
    pub(crate) fn new_raw(
        run: &'a Arc<RunState>,
        node: u32,
        handed: &'a mut Option<Carried>,
    ) -> Self {
        Self {
            run,
            node,
            next: run.dag.nodes[node as usize].inputs.start,
            try_number: 1,
            final_try: true,
            handed,
        }
    }

    /// The next argument as the run keeps it.
    pub(crate) fn next_raw(&mut self) -> Result<Value, TaskError> {
        let keep = self.run.keep_values;
        match self.next_input() {
            &Input::Literal(index) => Ok(self.run.dag.literals[index as usize].clone()),
            &Input::Upstream { node, slot, .. } => match self.take_handed(slot) {
                Some(value) => Ok(value),
                None => self.run.slots[slot as usize]
                    .read(keep, self.final_try)
                    .map_err(|error| self.error(Some(node), error)),
            },
            &Input::Gather(index) => self.gathered(index, keep),
            Input::Missing => Err(self.error(None, ReadError::NoValue)),
        }
    }

    /// The handed value, if it is the one in `slot`.
    fn take_handed(&mut self, slot: u32) -> Option<crate::xcom::Value> {
        if self
            .handed
            .as_ref()
            .is_some_and(|handed| handed.slot == slot)
        {
            self.handed.take().map(|handed| handed.value)
        } else {
            None
        }
    }

    /// The values of fan-in `index` as one list; an upstream task that ended without a
    /// value is left out.
    fn gathered(&mut self, index: u32, keep: bool) -> Result<crate::xcom::Value, TaskError> {
        let run: &'a Arc<RunState> = self.run;
        let gather = &run.dag.gathers[index as usize];
        let mut values = Vec::with_capacity(gather.sources.len());
        for &(node, _, slot) in &gather.sources {
            let read = match self.take_handed(slot) {
                Some(value) => Ok(value),
                None => run.slots[slot as usize].read(keep, self.final_try),
            };
            match read {
                Ok(value) => values.push(value),
                Err(ReadError::NoValue) => {} // it ended without a value
                Err(error) => return Err(self.error(Some(node), error)),
            }
        }
        (gather.gather)(values).ok_or_else(|| self.error(None, ReadError::WrongType))
    }

    /// A fan-in's list by value (out of line: the plain inputs stay small).
    #[cold]
    #[inline(never)]
    fn take_gathered<T: Send + Sync + 'static>(
        &mut self,
        index: u32,
        clone: Option<fn(&T) -> T>,
    ) -> Result<T, TaskError> {
        let value = self.gathered(index, self.run.keep_values)?;
        Slot::owned(value, clone).map_err(|error| self.error(None, error))
    }

    /// A fan-in's list, shared.
    #[cold]
    #[inline(never)]
    fn share_gathered<T: Send + Sync + 'static>(
        &mut self,
        index: u32,
    ) -> Result<Arc<T>, TaskError> {
        self.gathered(index, self.run.keep_values)?
            .downcast::<T>()
            .map_err(|_| self.error(None, ReadError::WrongType))
    }

    fn next_input(&mut self) -> &'a Input {
        let input = &self.run.dag.inputs[self.next as usize];
        self.next += 1;
        input
    }

    /// The next argument, by value.
    pub fn take<T: Send + Sync + 'static>(
        &mut self,
        clone: Option<fn(&T) -> T>,
    ) -> Result<T, TaskError> {
        match self.next_input() {
            &Input::Literal(index) => {
                let literal = self.run.dag.literals[index as usize]
                    .downcast_ref::<T>()
                    .ok_or_else(|| self.error(None, ReadError::WrongType))?;
                let clone = clone.ok_or_else(|| self.error(None, ReadError::StillShared))?;
                Ok(clone(literal))
            }
            &Input::Upstream { node, slot, .. } => match self.take_handed(slot) {
                Some(value) => Slot::owned(value, clone),
                None => self.run.slots[slot as usize].read_owned(
                    self.run.keep_values,
                    self.final_try,
                    clone,
                ),
            }
            .map_err(|error| self.error(Some(node), error)),
            &Input::Gather(index) => self.take_gathered(index, clone),
            Input::Missing => Err(self.error(None, ReadError::NoValue)),
        }
    }

    /// The next argument, shared by reference.
    pub fn share<T: Send + Sync + 'static>(&mut self) -> Result<SharedArg<T>, TaskError> {
        self.share_arc().map(SharedArg::new)
    }

    fn share_arc<T: Send + Sync + 'static>(&mut self) -> Result<Arc<T>, TaskError> {
        match self.next_input() {
            &Input::Literal(index) => self.run.dag.literals[index as usize]
                .clone()
                .downcast::<T>()
                .map_err(|_| self.error(None, ReadError::WrongType)),
            &Input::Upstream { node, slot, .. } => match self.take_handed(slot) {
                Some(value) => value.downcast::<T>().map_err(|_| ReadError::WrongType),
                None => {
                    self.run.slots[slot as usize].read_shared(self.run.keep_values, self.final_try)
                }
            }
            .map_err(|error| self.error(Some(node), error)),
            &Input::Gather(index) => self.share_gathered(index),
            Input::Missing => Err(self.error(None, ReadError::NoValue)),
        }
    }

    /// The next argument of an `Option<T>` parameter: `None` when the upstream task ended
    /// without a value (it failed or was skipped). Reads an upstream `T` (as `Some`) or
    /// `Option<T>`, or a literal `Option<T>`.
    pub fn take_or_none<T: Send + Sync + 'static>(
        &mut self,
        clone: Option<fn(&T) -> T>,
    ) -> Result<Option<T>, TaskError> {
        match self.next_input() {
            &Input::Literal(index) => {
                let literal = self.run.dag.literals[index as usize]
                    .downcast_ref::<Option<T>>()
                    .ok_or_else(|| self.error(None, ReadError::WrongType))?;
                match (literal, clone) {
                    (None, _) => Ok(None),
                    (Some(value), Some(clone)) => Ok(Some(clone(value))),
                    (Some(_), None) => Err(self.error(None, ReadError::StillShared)),
                }
            }
            &Input::Upstream { node, slot, .. } => match self.take_handed(slot) {
                Some(value) => Ok(value),
                None => self.run.slots[slot as usize]
                    .read(self.run.keep_values && clone.is_some(), self.final_try),
            }
            .map_or_else(
                |error| match error {
                    ReadError::NoValue => Ok(None),
                    other => Err(other),
                },
                |value| optional(value, clone),
            )
            .map_err(|error| self.error(Some(node), error)),
            &Input::Gather(index) => self.take_gathered(index, clone).map(Some),
            Input::Missing => Err(self.error(None, ReadError::NoValue)),
        }
    }

    /// The next argument of an `Option<&T>` parameter, shared by reference: `None` when the
    /// upstream task ended without a value.
    pub fn share_or_none<T: Send + Sync + 'static>(
        &mut self,
    ) -> Result<SharedOrNone<T>, TaskError> {
        match self.next_input() {
            &Input::Literal(index) => self.run.dag.literals[index as usize]
                .clone()
                .downcast::<Option<T>>()
                .map(|value| SharedOrNone::Optional(SharedArg::new(value)))
                .map_err(|_| self.error(None, ReadError::WrongType)),
            &Input::Upstream { node, slot, .. } => match self.take_handed(slot) {
                Some(value) => Ok(value),
                None => self.run.slots[slot as usize].read(self.run.keep_values, self.final_try),
            }
            .map_or_else(
                |error| match error {
                    ReadError::NoValue => Ok(SharedOrNone::None),
                    other => Err(other),
                },
                |value| match value.downcast::<T>() {
                    Ok(value) => Ok(SharedOrNone::Value(SharedArg::new(value))),
                    Err(value) => value
                        .downcast::<Option<T>>()
                        .map(|value| SharedOrNone::Optional(SharedArg::new(value)))
                        .map_err(|_| ReadError::WrongType),
                },
            )
            .map_err(|error| self.error(Some(node), error)),
            &Input::Gather(index) => self
                .share_gathered(index)
                .map(|value| SharedOrNone::Value(SharedArg::new(value))),
            Input::Missing => Err(self.error(None, ReadError::NoValue)),
        }
    }

    /// The context of this try.
    pub fn context(&self) -> Context {
        self.run.context(self.node, self.try_number)
    }

    fn error(&self, upstream: Option<u32>, error: ReadError) -> TaskError {
        let argument = self.next - self.run.dag.nodes[self.node as usize].inputs.start;
        let from = upstream.map_or_else(
            || "a literal".to_owned(),
            |up| format!("task `{}`", self.run.dag.task_id(up)),
        );
        let why = match error {
            ReadError::NoValue => "it produced no value",
            ReadError::Released => "its value was already handed on",
            ReadError::WrongType => "the value has another type",
            ReadError::StillShared => "the value is not Clone and another task still reads it",
        };
        TaskError::fail_now(format!(
            "argument {argument} from {from} could not be read: {why}"
        ))
    }
}

/// An upstream value for an `Option<T>` parameter: a `T` (as `Some`) or an `Option<T>`.
fn optional<T: Send + Sync + 'static>(
    value: Value,
    clone: Option<fn(&T) -> T>,
) -> Result<Option<T>, ReadError> {
    let value = match value.take::<T>() {
        Ok(value) => return Ok(Some(value)),
        Err(value) => value,
    };
    if let Some(shared) = value.downcast_ref::<T>() {
        return clone
            .map(|clone| Some(clone(shared)))
            .ok_or(ReadError::StillShared);
    }
    let value = match value.take::<Option<T>>() {
        Ok(value) => return Ok(value),
        Err(value) => value,
    };
    match value.downcast_ref::<Option<T>>() {
        None => Err(ReadError::WrongType),
        Some(None) => Ok(None),
        Some(Some(shared)) => clone
            .map(|clone| Some(clone(shared)))
            .ok_or(ReadError::StillShared),
    }
}
