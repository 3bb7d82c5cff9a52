//! Task settings that `#[task(...)]` takes and `#[dag(default_args(...))]` sets for all
//! tasks, checked at compile time and turned into a `const` `TaskOptions`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Ident, LitBool, LitInt, LitStr};

use crate::attr::{set_once, string_value};
use crate::duration::parse_millis;

/// Airflow's trigger rule names, with the runtime's variant of each.
const TRIGGER_RULES: &[(&str, &str)] = &[
    ("all_success", "AllSuccess"),
    ("all_failed", "AllFailed"),
    ("all_done", "AllDone"),
    ("all_done_setup_success", "AllDoneSetupSuccess"),
    ("all_done_min_one_success", "AllDoneMinOneSuccess"),
    ("all_skipped", "AllSkipped"),
    ("one_failed", "OneFailed"),
    ("one_success", "OneSuccess"),
    ("one_done", "OneDone"),
    ("none_failed", "NoneFailed"),
    ("none_failed_min_one_success", "NoneFailedMinOneSuccess"),
    ("none_skipped", "NoneSkipped"),
    ("always", "Always"),
];

/// The names of the settings, for "expected one of" messages.
pub(crate) const NAMES: &str = "trigger_rule, retries, retry_delay, retry_exponential_backoff, max_retry_delay, \
     execution_timeout, on_execute_callback, on_success_callback, on_failure_callback, on_retry_callback, \
     on_skipped_callback";

/// The task callbacks, each set with `name = path::to::function`.
const CALLBACKS: [&str; 5] = [
    "on_execute_callback",
    "on_success_callback",
    "on_failure_callback",
    "on_retry_callback",
    "on_skipped_callback",
];

#[derive(Default)]
pub(crate) struct Settings {
    trigger_rule: Option<Ident>,
    retries: Option<LitInt>,
    retry_delay: Option<(u64, Span)>,
    retry_exponential_backoff: Option<LitBool>,
    max_retry_delay: Option<(u64, Span)>,
    execution_timeout: Option<(u64, Span)>,
    /// `setup` / `teardown` flags.
    setup: Option<Ident>,
    teardown: Option<Ident>,
    /// Per entry of `CALLBACKS`: the function given.
    callbacks: [Option<syn::Path>; 5],
}

impl Settings {
    /// Parses `meta` if it is a setting; `Ok(false)` if it is some other option.
    pub(crate) fn parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
        let Some(key) = meta.path.get_ident().map(ToString::to_string) else {
            return Ok(false);
        };
        match key.as_str() {
            "trigger_rule" => {
                let rule = trigger_rule(meta)?;
                set_once(meta, &mut self.trigger_rule, rule)?;
            }
            "retries" => {
                let value: LitInt = meta.value()?.parse()?;
                value.base10_parse::<u32>()?;
                set_once(meta, &mut self.retries, value)?;
            }
            "retry_exponential_backoff" => {
                let value = if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse()?
                } else {
                    LitBool::new(
                        true,
                        meta.path
                            .get_ident()
                            .map_or_else(Span::call_site, Ident::span),
                    )
                };
                set_once(meta, &mut self.retry_exponential_backoff, value)?;
            }
            "setup" | "teardown" => {
                let flag = meta
                    .path
                    .get_ident()
                    .cloned()
                    .expect("matched an identifier");
                let (slot, other) = if key == "setup" {
                    (&mut self.setup, &self.teardown)
                } else {
                    (&mut self.teardown, &self.setup)
                };
                if other.is_some() {
                    return Err(meta.error("a task is either a `setup` or a `teardown`, not both"));
                }
                set_once(meta, slot, flag)?;
            }
            "retry_delay" => set_once(
                meta,
                &mut self.retry_delay,
                duration(meta, "retry_delay", "30s", false)?,
            )?,
            "max_retry_delay" => set_once(
                meta,
                &mut self.max_retry_delay,
                duration(meta, "max_retry_delay", "10m", false)?,
            )?,
            "execution_timeout" => set_once(
                meta,
                &mut self.execution_timeout,
                duration(meta, "execution_timeout", "1h", true)?,
            )?,
            other => match CALLBACKS.iter().position(|name| *name == other) {
                Some(index) => {
                    let function: syn::Path = meta.value()?.parse()?;
                    set_once(meta, &mut self.callbacks[index], function)?;
                }
                None => return Ok(false),
            },
        }
        Ok(true)
    }

    /// A `const` expression of type `TaskOptions` with these settings.
    pub(crate) fn options(&self, krate: &TokenStream) -> TokenStream {
        let mut options = quote!(#krate::TaskOptions::EMPTY);
        let millis = |(value, _): &(u64, Span)| quote!(::core::time::Duration::from_millis(#value));
        if let Some(rule) = &self.trigger_rule {
            options = quote!(#options.with_const_trigger_rule(#krate::TriggerRule::#rule));
        }
        if let Some(retries) = &self.retries {
            options = quote!(#options.with_const_retries(#retries));
        }
        if let Some(delay) = &self.retry_delay {
            let delay = millis(delay);
            options = quote!(#options.with_const_retry_delay(#delay));
        }
        if let Some(backoff) = &self.retry_exponential_backoff {
            options = quote!(#options.with_const_retry_exponential_backoff(#backoff));
        }
        if let Some(max) = &self.max_retry_delay {
            let max = millis(max);
            options = quote!(#options.with_const_max_retry_delay(#max));
        }
        if let Some(timeout) = &self.execution_timeout {
            let timeout = millis(timeout);
            options = quote!(#options.with_const_execution_timeout(#timeout));
        }
        if let Some(setup) = &self.setup {
            options = quote!(#options.#setup());
        }
        if let Some(teardown) = &self.teardown {
            options = quote!(#options.#teardown());
        }
        for (name, function) in CALLBACKS.iter().zip(&self.callbacks) {
            if let Some(function) = function {
                let setter = Ident::new(name, function.span());
                options = quote!(#options.#setter(#function));
            }
        }
        options
    }
}

fn duration(
    meta: &ParseNestedMeta<'_>,
    key: &str,
    example: &str,
    positive: bool,
) -> syn::Result<(u64, Span)> {
    let lit: LitStr = string_value(meta, key, example)?;
    match parse_millis(&lit.value()) {
        Ok(0) if positive => Err(syn::Error::new(
            lit.span(),
            format_args!("`{key}` must be longer than zero"),
        )),
        Ok(millis) => Ok((millis, lit.span())),
        Err(reason) => Err(syn::Error::new(
            lit.span(),
            format_args!(
                "invalid duration for `{key}`: {reason} (for example \"500ms\", \"30s\", \"10m\", \"2h\", \"1h30m\")"
            ),
        )),
    }
}

fn trigger_rule(meta: &ParseNestedMeta<'_>) -> syn::Result<Ident> {
    let lit = string_value(meta, "trigger_rule", "all_done")?;
    let name = lit.value();
    match TRIGGER_RULES.iter().find(|(airflow, _)| *airflow == name) {
        Some((_, variant)) => Ok(Ident::new(variant, lit.span())),
        None => {
            let names: Vec<&str> = TRIGGER_RULES.iter().map(|(airflow, _)| *airflow).collect();
            Err(syn::Error::new(
                lit.span(),
                format_args!(
                    "unknown trigger rule {name:?}; expected one of: {}",
                    names.join(", ")
                ),
            ))
        }
    }
}
