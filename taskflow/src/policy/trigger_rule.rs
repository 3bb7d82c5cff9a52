//! Trigger rules: when a task may run, given the states of its direct upstream tasks.

use std::fmt;
use std::str::FromStr;

/// When a task runs, judged from its direct upstream tasks only, with Airflow's names.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TriggerRule {
    /// All upstream tasks succeeded (the default).
    #[default]
    AllSuccess,
    /// All upstream tasks failed or are upstream_failed.
    AllFailed,
    /// All upstream tasks finished, whatever their state.
    AllDone,
    /// All upstream tasks finished, and at least one upstream setup task (if there are any)
    /// succeeded; skipped if they were all skipped. The default of teardown tasks.
    AllDoneSetupSuccess,
    /// All upstream tasks finished and at least one succeeded; skipped if any upstream task
    /// was skipped (Airflow's behaviour, which its documentation does not say).
    AllDoneMinOneSuccess,
    /// All upstream tasks were skipped.
    AllSkipped,
    /// At least one upstream task failed; runs without waiting for the rest.
    OneFailed,
    /// At least one upstream task succeeded; runs without waiting for the rest.
    OneSuccess,
    /// At least one upstream task succeeded or failed; runs without waiting for the rest.
    OneDone,
    /// No upstream task failed or is upstream_failed: they all succeeded or were skipped.
    NoneFailed,
    /// No upstream task failed, and at least one succeeded.
    NoneFailedMinOneSuccess,
    /// No upstream task was skipped.
    NoneSkipped,
    /// Runs at any time, without waiting for its upstream tasks.
    Always,
}

impl TriggerRule {
    /// Every rule, in Airflow's documentation order.
    pub const ALL: [TriggerRule; 13] = [
        Self::AllSuccess,
        Self::AllFailed,
        Self::AllDone,
        Self::AllDoneSetupSuccess,
        Self::AllDoneMinOneSuccess,
        Self::AllSkipped,
        Self::OneFailed,
        Self::OneSuccess,
        Self::OneDone,
        Self::NoneFailed,
        Self::NoneFailedMinOneSuccess,
        Self::NoneSkipped,
        Self::Always,
    ];

    /// Airflow's name of the rule (`"none_failed"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllSuccess => "all_success",
            Self::AllFailed => "all_failed",
            Self::AllDone => "all_done",
            Self::AllDoneSetupSuccess => "all_done_setup_success",
            Self::AllDoneMinOneSuccess => "all_done_min_one_success",
            Self::AllSkipped => "all_skipped",
            Self::OneFailed => "one_failed",
            Self::OneSuccess => "one_success",
            Self::OneDone => "one_done",
            Self::NoneFailed => "none_failed",
            Self::NoneFailedMinOneSuccess => "none_failed_min_one_success",
            Self::NoneSkipped => "none_skipped",
            Self::Always => "always",
        }
    }

    /// Whether the rule can decide before every upstream task has finished.
    pub(crate) fn may_decide_early(self) -> bool {
        !matches!(
            self,
            Self::AllDone
                | Self::AllDoneSetupSuccess
                | Self::AllDoneMinOneSuccess
                | Self::NoneFailed
        )
    }

    /// Decides what happens to a task from the tally of its direct upstream tasks.
    pub(crate) fn decide(self, t: &Tally) -> Decision {
        use Decision::{Run, Skip, UpstreamFailed, Wait};
        let failed = t.failed + t.upstream_failed;
        let all_done = t.done() == t.upstream;
        match self {
            Self::Always => Run,
            Self::AllSuccess => match () {
                _ if failed > 0 => UpstreamFailed,
                _ if t.skipped > 0 => Skip,
                _ if all_done => Run,
                _ => Wait,
            },
            Self::AllFailed => match () {
                _ if t.success + t.skipped > 0 => Skip,
                _ if all_done => Run,
                _ => Wait,
            },
            Self::AllDone => {
                if all_done {
                    Run
                } else {
                    Wait
                }
            }
            Self::AllDoneSetupSuccess => match () {
                _ if !all_done => Wait,
                _ if t.setups > 0 && t.setup_skipped >= t.setups => Skip,
                _ if t.setups > 0 && t.setup_success == 0 => UpstreamFailed,
                _ => Run,
            },
            // As Airflow 3 does it: a skipped upstream skips the task (its docs say skipped
            // upstreams are ignored; its code, and so this, does not).
            Self::AllDoneMinOneSuccess => match () {
                _ if !all_done => Wait,
                _ if t.skipped > 0 => Skip,
                _ if t.success == 0 && t.upstream > 0 => UpstreamFailed,
                _ => Run,
            },
            Self::AllSkipped => match () {
                _ if t.success + failed > 0 => Skip,
                _ if all_done => Run,
                _ => Wait,
            },
            Self::OneFailed => match () {
                _ if failed > 0 => Run,
                _ if all_done => Skip,
                _ => Wait,
            },
            Self::OneSuccess => match () {
                _ if t.success > 0 || t.upstream == 0 => Run,
                _ if !all_done => Wait,
                _ if failed > 0 => UpstreamFailed,
                _ => Skip,
            },
            Self::OneDone => match () {
                _ if t.success + t.failed > 0 || t.upstream == 0 => Run,
                _ if all_done => Skip,
                _ => Wait,
            },
            Self::NoneFailed => match () {
                _ if failed > 0 => UpstreamFailed,
                _ if all_done => Run,
                _ => Wait,
            },
            Self::NoneFailedMinOneSuccess => match () {
                _ if failed > 0 => UpstreamFailed,
                _ if !all_done => Wait,
                _ if t.success == 0 && t.upstream > 0 => Skip,
                _ => Run,
            },
            Self::NoneSkipped => match () {
                _ if t.skipped > 0 => Skip,
                _ if all_done => Run,
                _ => Wait,
            },
        }
    }
}

impl fmt::Display for TriggerRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The error of parsing an unknown trigger rule name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown trigger rule `{name}`; expected one of: {}", TriggerRule::ALL.map(TriggerRule::as_str).join(", "))]
pub struct UnknownTriggerRule {
    /// The name that was not recognised.
    pub name: String,
}

impl FromStr for TriggerRule {
    type Err = UnknownTriggerRule;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|rule| rule.as_str() == name)
            .ok_or_else(|| UnknownTriggerRule {
                name: name.to_owned(),
            })
    }
}

/// How many direct upstream tasks ended in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    /// The number of direct upstream tasks.
    pub(crate) upstream: u32,
    /// Upstream tasks that succeeded.
    pub(crate) success: u32,
    /// Upstream tasks that failed.
    pub(crate) failed: u32,
    /// Upstream tasks that ended upstream_failed.
    pub(crate) upstream_failed: u32,
    /// Upstream tasks that were skipped.
    pub(crate) skipped: u32,
    /// How many of the upstream tasks are setup tasks.
    pub(crate) setups: u32,
    /// Upstream setup tasks that succeeded.
    pub(crate) setup_success: u32,
    /// Upstream setup tasks that were skipped.
    pub(crate) setup_skipped: u32,
}

impl Tally {
    /// Upstream tasks that finished, in any state.
    pub(crate) fn done(&self) -> u32 {
        self.success + self.failed + self.upstream_failed + self.skipped
    }
}

/// What a trigger rule decides for a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Not decided yet: more upstream tasks must finish.
    Wait,
    /// Run the task.
    Run,
    /// End the task as skipped without running it.
    Skip,
    /// End the task as upstream_failed without running it.
    UpstreamFailed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_failed_upstream_fails_all_success_runs_one_failed_and_all_done_waits() {
        let one_failed = Tally {
            upstream: 3,
            failed: 1,
            ..Tally::default()
        };
        assert_eq!(
            TriggerRule::AllSuccess.decide(&one_failed),
            Decision::UpstreamFailed
        );
        assert_eq!(TriggerRule::OneFailed.decide(&one_failed), Decision::Run);
        assert_eq!(TriggerRule::AllDone.decide(&one_failed), Decision::Wait);
    }

    #[test]
    fn names_round_trip() {
        for rule in TriggerRule::ALL {
            assert_eq!(rule.as_str().parse::<TriggerRule>(), Ok(rule));
        }
        let error = "all_sucess".parse::<TriggerRule>().unwrap_err();
        assert!(
            error
                .to_string()
                .contains("expected one of: all_success, all_failed")
        );
    }

    #[test]
    fn all_success_waits_then_runs_and_propagates_skips_and_failures() {
        let rule = TriggerRule::AllSuccess;
        let tally = |success, failed, skipped| Tally {
            upstream: 2,
            success,
            failed,
            skipped,
            ..Tally::default()
        };
        assert_eq!(rule.decide(&tally(1, 0, 0)), Decision::Wait);
        assert_eq!(rule.decide(&tally(2, 0, 0)), Decision::Run);
        assert_eq!(rule.decide(&tally(1, 1, 0)), Decision::UpstreamFailed);
        assert_eq!(rule.decide(&tally(1, 0, 1)), Decision::Skip);
        assert_eq!(rule.decide(&Tally::default()), Decision::Run);
    }
}
