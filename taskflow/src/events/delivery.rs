//! Delivery of events to listeners: a bounded queue served by one thread, so that listeners
//! never run on (or hold up) the threads that run tasks.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::{Event, Listener};

/// The listeners of a run (or an executor), cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Listeners(Arc<[Arc<dyn Listener>]>);

impl Listeners {
    /// These listeners and `more`.
    pub(crate) fn with(&self, more: Arc<dyn Listener>) -> Self {
        Self(self.0.iter().cloned().chain([more]).collect())
    }

    /// These listeners followed by `others`.
    pub(crate) fn and(&self, others: &Listeners) -> Self {
        if others.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return others.clone();
        }
        Self(self.0.iter().chain(others.0.iter()).cloned().collect())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} listener(s)", self.0.len())
    }
}

/// What the delivery thread does next.
enum Message {
    /// Hand `event` to `listeners`.
    Event(Listeners, Event),
    /// Everything queued before has been delivered: run this.
    Then(Box<dyn FnOnce() + Send>),
}

struct Queue {
    state: Mutex<QueueState>,
    wake: Condvar,
    capacity: usize,
}

#[derive(Default)]
struct QueueState {
    messages: VecDeque<Message>,
    /// Events among `messages`.
    events: usize,
    /// No sender is left: the thread ends once the queue is empty.
    closed: bool,
    /// The delivery thread waits for a message: only then does a sender wake it.
    idle: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // Listeners run outside the lock: a poisoned lock still holds a consistent queue.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The sending side of a delivery queue and its thread; dropping the last clone lets the
/// thread end after it delivered what was queued.
#[derive(Clone)]
pub(crate) struct Delivery(Arc<Sender>);

struct Sender(Arc<Queue>);

impl Drop for Sender {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.wake.notify_all();
    }
}

impl Delivery {
    /// A queue of `capacity` events and the thread that delivers them; `None` if the thread
    /// could not start (a warning says so, and the run goes on unheard).
    pub(crate) fn start(capacity: usize) -> Option<Self> {
        let queue = Arc::new(Queue {
            state: Mutex::default(),
            wake: Condvar::new(),
            capacity: capacity.max(1),
        });
        let served = Arc::clone(&queue);
        let started = std::thread::Builder::new()
            .name("taskflow-listeners".into())
            .spawn(move || serve(&served));
        match started {
            Ok(_) => Some(Self(Arc::new(Sender(queue)))),
            Err(error) => {
                tracing::warn!(
                    "could not start the thread for listeners: {error}; they hear nothing"
                );
                None
            }
        }
    }

    /// Queues `event` for `listeners`; `false` if the queue was full and it was dropped.
    pub(crate) fn send(&self, listeners: &Listeners, event: Event) -> bool {
        let queue = &self.0.0;
        let mut state = queue.lock();
        if state.events >= queue.capacity {
            return false;
        }
        state.events += 1;
        state
            .messages
            .push_back(Message::Event(listeners.clone(), event));
        let idle = std::mem::take(&mut state.idle);
        drop(state);
        if idle {
            queue.wake.notify_one();
        }
        true
    }

    /// Runs `then` on the delivery thread once everything queued so far is delivered; it
    /// is queued even when the queue is full of events.
    pub(crate) fn then(&self, then: impl FnOnce() + Send + 'static) {
        let queue = &self.0.0;
        let mut state = queue.lock();
        state.messages.push_back(Message::Then(Box::new(then)));
        state.idle = false;
        drop(state);
        queue.wake.notify_one();
    }
}

/// The delivery thread: takes messages in order until the queue is closed and empty.
fn serve(queue: &Queue) {
    loop {
        let message = {
            let mut state = queue.lock();
            loop {
                if let Some(message) = state.messages.pop_front() {
                    if matches!(message, Message::Event(..)) {
                        state.events -= 1;
                    }
                    break message;
                }
                if state.closed {
                    return;
                }
                state.idle = true;
                state = queue
                    .wake
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        };
        match message {
            Message::Event(listeners, event) => {
                for listener in listeners.0.iter() {
                    if let Err(message) = crate::quiet::catch(|| listener.on_event(&event)) {
                        tracing::warn!(
                            "a listener panicked: {message}; it is called again for the next event"
                        );
                    }
                }
                crate::quiet::drop_quietly(event);
            }
            Message::Then(then) => {
                if let Err(message) = crate::quiet::catch(then) {
                    tracing::error!("internal error after delivering events: {message}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DagRunState;
    use std::sync::mpsc;
    use std::time::Duration;

    fn run_event(run_id: &str) -> Event {
        Event::DagRun(super::super::DagRunEvent {
            dag_id: "d".into(),
            run_id: run_id.into(),
            logical_date: chrono::DateTime::UNIX_EPOCH,
            state: DagRunState::Running,
            timestamp: chrono::DateTime::UNIX_EPOCH,
            start_date: chrono::DateTime::UNIX_EPOCH,
            end_date: None,
            tasks: 0,
        })
    }

    #[test]
    fn a_full_queue_drops_events_and_a_flush_still_comes_after_the_rest() {
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let gate = Mutex::new(gate_rx);
        let (seen_tx, seen_rx) = mpsc::channel::<String>();
        let seen = Mutex::new(seen_tx);
        let listener = move |event: &Event| {
            // The first event waits for the gate: the queue fills up behind it.
            let Event::DagRun(run) = event else { return };
            if &*run.run_id == "0" {
                let _ = gate.lock().unwrap().recv_timeout(Duration::from_secs(30));
            }
            let _ = seen.lock().unwrap().send(run.run_id.to_string());
        };
        let listeners = Listeners::default().with(Arc::new(listener));
        let delivery = Delivery::start(2).unwrap();
        assert!(delivery.send(&listeners, run_event("0")));
        // "0" may still be queued or already taken by the thread: wait until it is taken.
        assert!(delivery.send(&listeners, run_event("1")));
        let mut sent = 2;
        let mut dropped = 0;
        for i in 2..10 {
            if delivery.send(&listeners, run_event(&i.to_string())) {
                sent += 1;
            } else {
                dropped += 1;
            }
        }
        assert!(dropped >= 5, "at most 3 of 10 fit: {sent} sent");
        let (done_tx, done_rx) = mpsc::channel();
        delivery.then(move || done_tx.send(()).unwrap());
        gate_tx.send(()).unwrap();
        done_rx.recv_timeout(Duration::from_secs(30)).unwrap();
        let seen: Vec<String> = seen_rx.try_iter().collect();
        assert_eq!(seen.len(), sent);
        assert_eq!(seen[..2], ["0", "1"]);
    }

    #[test]
    fn a_panicking_listener_is_called_again_and_others_still_hear() {
        let (seen_tx, seen_rx) = mpsc::channel::<String>();
        let seen = Mutex::new(seen_tx);
        let panicking = |_: &Event| panic!("listener bug");
        let hearing = move |event: &Event| {
            if let Event::DagRun(run) = event {
                let _ = seen.lock().unwrap().send(run.run_id.to_string());
            }
        };
        let listeners = Listeners::default()
            .with(Arc::new(panicking))
            .with(Arc::new(hearing));
        let delivery = Delivery::start(10).unwrap();
        for i in 0..3 {
            assert!(delivery.send(&listeners, run_event(&i.to_string())));
        }
        let (done_tx, done_rx) = mpsc::channel();
        delivery.then(move || done_tx.send(()).unwrap());
        done_rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(seen_rx.try_iter().collect::<Vec<_>>(), ["0", "1", "2"]);
    }
}
