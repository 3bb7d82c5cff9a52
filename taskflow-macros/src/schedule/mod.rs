//! The schedule options of `#[dag(...)]`: `schedule`, `timezone`, `start_date`, `end_date`,
//! `catchup` and `dagrun_timeout`, checked at compile time as the runtime would check them
//! when the DAG is built, and forwarded to `DagBuilder`'s methods of the same names. They
//! need the `schedule` feature (of `taskflow`, which turns on this crate's).

#[cfg(feature = "schedule")]
mod date;
#[cfg(feature = "schedule")]
mod timetable;

#[cfg(not(feature = "schedule"))]
pub(crate) use disabled::ScheduleAttr;
#[cfg(feature = "schedule")]
pub(crate) use options::ScheduleAttr;

#[cfg(feature = "schedule")]
mod options {
    use chrono::{DateTime, Utc};
    use proc_macro2::{Span, TokenStream};
    use quote::quote;
    use syn::meta::ParseNestedMeta;
    use syn::{LitBool, LitStr};

    use super::{date, timetable};
    use crate::attr::{set_once, string_value};
    use crate::settings;

    /// The schedule options given, each checked on its own as it is parsed.
    #[derive(Default)]
    pub(crate) struct ScheduleAttr {
        schedule: Option<LitStr>,
        timezone: Option<LitStr>,
        start_date: Option<(DateTime<Utc>, Span)>,
        end_date: Option<(DateTime<Utc>, Span)>,
        catchup: Option<LitBool>,
        dagrun_timeout: Option<(u64, Span)>,
    }

    impl ScheduleAttr {
        /// Parses `meta` if it is a schedule option; `Ok(false)` if it is some other option.
        pub(crate) fn parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
            let Some(key) = meta.path.get_ident().map(ToString::to_string) else {
                return Ok(false);
            };
            match key.as_str() {
                "schedule" => set_once(meta, &mut self.schedule, schedule(meta)?)?,
                "timezone" => set_once(meta, &mut self.timezone, timezone(meta)?)?,
                "start_date" => set_once(meta, &mut self.start_date, instant(meta, "start_date")?)?,
                "end_date" => set_once(meta, &mut self.end_date, instant(meta, "end_date")?)?,
                "catchup" => set_once(meta, &mut self.catchup, settings::flag(meta)?)?,
                "dagrun_timeout" => {
                    set_once(meta, &mut self.dagrun_timeout, dagrun_timeout(meta)?)?;
                }
                _ => return Ok(false),
            }
            Ok(true)
        }

        /// The checks across options, as `DagBuilder::build` makes them.
        pub(crate) fn check(&self) -> syn::Result<()> {
            if let Some(catchup) = &self.catchup
                && catchup.value
                && self.start_date.is_none()
            {
                return Err(syn::Error::new(
                    catchup.span,
                    "`catchup` needs a `start_date` to catch up from",
                ));
            }
            if let (Some((start, _)), Some((end, span))) = (&self.start_date, &self.end_date)
                && end < start
            {
                return Err(syn::Error::new(
                    *span,
                    format_args!("`end_date` is before the `start_date` ({end} < {start})"),
                ));
            }
            Ok(())
        }

        /// The `DagBuilder` calls that set these options.
        pub(crate) fn builder_calls(&self, krate: &TokenStream) -> TokenStream {
            let instant = |(at, _): &(DateTime<Utc>, Span)| {
                let (seconds, nanos) = (at.timestamp(), at.timestamp_subsec_nanos());
                quote! {
                    const {
                        match #krate::chrono::DateTime::<#krate::chrono::Utc>::from_timestamp(
                            #seconds, #nanos,
                        ) {
                            ::core::option::Option::Some(at) => at,
                            ::core::option::Option::None => ::core::panic!("a date out of range"),
                        }
                    }
                }
            };
            let schedule = self.schedule.iter().map(|lit| quote!(.schedule(#lit)));
            let timezone = self.timezone.iter().map(|lit| quote!(.timezone(#lit)));
            let start = self
                .start_date
                .iter()
                .map(instant)
                .map(|at| quote!(.start_date(#at)));
            let end = self
                .end_date
                .iter()
                .map(instant)
                .map(|at| quote!(.end_date(#at)));
            let catchup = self.catchup.iter().map(|flag| quote!(.catchup(#flag)));
            let timeout = self.dagrun_timeout.iter().map(
                |(millis, _)| quote!(.dagrun_timeout(::core::time::Duration::from_millis(#millis))),
            );
            quote!(#(#schedule)* #(#timezone)* #(#start)* #(#end)* #(#catchup)* #(#timeout)*)
        }
    }

    fn schedule(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
        let lit = string_value(meta, "schedule", "@daily")?;
        timetable::check(&lit.value()).map_err(|reason| {
            syn::Error::new(
                lit.span(),
                format_args!("invalid `schedule`: {}", reason.trim_end_matches('.')),
            )
        })?;
        Ok(lit)
    }

    fn timezone(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
        let lit = string_value(meta, "timezone", "Asia/Seoul")?;
        let name = lit.value();
        if name.parse::<chrono_tz::Tz>().is_err() {
            return Err(syn::Error::new(
                lit.span(),
                format_args!("unknown time zone `{name}` (an IANA name such as `Asia/Seoul`)"),
            ));
        }
        Ok(lit)
    }

    fn instant(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<(DateTime<Utc>, Span)> {
        let lit = string_value(meta, key, "2026-01-01")?;
        match date::parse(&lit.value()) {
            Ok(at) => Ok((at, lit.span())),
            Err(reason) => Err(syn::Error::new(
                lit.span(),
                format_args!(
                    "invalid `{key}` {:?}: {reason}; expected a date (\"2026-01-01\", \
                     midnight UTC) or an RFC 3339 time (\"2026-01-01T06:00:00Z\")",
                    lit.value()
                ),
            )),
        }
    }

    fn dagrun_timeout(meta: &ParseNestedMeta<'_>) -> syn::Result<(u64, Span)> {
        let (millis, span) = settings::duration(meta, "dagrun_timeout", "2h", false)?;
        if millis == 0 {
            return Err(syn::Error::new(
                span,
                "`dagrun_timeout` must be positive, or every run would time out",
            ));
        }
        Ok((millis, span))
    }
}

/// Without the `schedule` feature: a schedule option is an error saying which feature it
/// needs.
#[cfg(not(feature = "schedule"))]
mod disabled {
    use proc_macro2::TokenStream;
    use syn::meta::ParseNestedMeta;

    /// The schedule options, all of which need the feature.
    const NAMES: [&str; 6] = [
        "schedule",
        "timezone",
        "start_date",
        "end_date",
        "catchup",
        "dagrun_timeout",
    ];

    #[derive(Default)]
    pub(crate) struct ScheduleAttr;

    impl ScheduleAttr {
        /// An error if `meta` is a schedule option; `Ok(false)` if it is some other option.
        pub(crate) fn parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
            match NAMES.iter().find(|name| meta.path.is_ident(name)) {
                Some(name) => Err(meta.error(format_args!(
                    "`{name}` needs the `schedule` feature of taskflow: \
                     `taskflow = {{ version = \"...\", features = [\"schedule\"] }}`"
                ))),
                None => Ok(false),
            }
        }

        /// Nothing to check without schedule options.
        pub(crate) fn check(&self) -> syn::Result<()> {
            Ok(())
        }

        /// No builder calls without schedule options.
        pub(crate) fn builder_calls(&self, _krate: &TokenStream) -> TokenStream {
            TokenStream::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use crate::attr::parse_dag;

    #[cfg(not(feature = "schedule"))]
    #[test]
    fn without_the_feature_a_schedule_option_says_which_feature_it_needs() {
        for option in [
            quote!(schedule = "@daily"),
            quote!(timezone = "Asia/Seoul"),
            quote!(start_date = "2026-01-01"),
            quote!(end_date = "2026-01-01"),
            quote!(catchup = false),
            quote!(dagrun_timeout = "1h"),
        ] {
            let error = parse_dag(option.clone())
                .err()
                .expect("an error")
                .to_string();
            assert!(
                error.contains("needs the `schedule` feature of taskflow"),
                "{option}: {error}"
            );
        }
        assert!(parse_dag(quote!(max_active_runs = 2)).is_ok());
    }

    #[cfg(feature = "schedule")]
    #[test]
    fn with_the_feature_the_options_become_builder_calls() {
        let attr = parse_dag(quote!(
            schedule = "@daily",
            timezone = "Asia/Seoul",
            start_date = "2026-01-01",
            catchup,
            dagrun_timeout = "2h"
        ))
        .unwrap_or_else(|error| panic!("{error}"));
        let calls = attr.schedule.builder_calls(&quote!(::taskflow)).to_string();
        for call in [
            ". schedule (\"@daily\")",
            ". timezone (\"Asia/Seoul\")",
            "from_timestamp (1767225600i64 , 0u32 ,)",
            ". catchup (true)",
            "from_millis (7200000u64)",
        ] {
            assert!(calls.contains(call), "{call} in {calls}");
        }
    }
}
