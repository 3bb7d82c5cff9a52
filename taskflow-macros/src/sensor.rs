//! The options only `#[sensor(...)]` takes, checked at compile time and turned into a
//! `const` `SensorSettings`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::{Ident, LitBool};

use crate::attr::{set_once, string_value};
use crate::settings::{duration, flag};

#[derive(Default)]
pub(crate) struct SensorAttr {
    poke_interval: Option<u64>,
    timeout: Option<u64>,
    mode: Option<Ident>,
    soft_fail: Option<LitBool>,
    exponential_backoff: Option<LitBool>,
    max_wait: Option<u64>,
}

impl SensorAttr {
    /// Parses `meta` if it is a sensor option; `Ok(false)` if it is some other option.
    pub(crate) fn parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
        let Some(key) = meta.path.get_ident().map(ToString::to_string) else {
            return Ok(false);
        };
        match key.as_str() {
            "poke_interval" => set_once(meta, &mut self.poke_interval, millis(meta, &key, "30s")?)?,
            "timeout" => set_once(meta, &mut self.timeout, millis(meta, &key, "1h")?)?,
            "max_wait" => set_once(meta, &mut self.max_wait, millis(meta, &key, "5m")?)?,
            "mode" => {
                let lit = string_value(meta, "mode", "reschedule")?;
                let variant = match lit.value().as_str() {
                    "poke" => "Poke",
                    "reschedule" => "Reschedule",
                    other => {
                        return Err(syn::Error::new(
                            lit.span(),
                            format_args!(
                                "unknown sensor mode {other:?}; expected \"poke\" or \"reschedule\""
                            ),
                        ));
                    }
                };
                set_once(meta, &mut self.mode, Ident::new(variant, lit.span()))?;
            }
            "soft_fail" => set_once(meta, &mut self.soft_fail, flag(meta)?)?,
            "exponential_backoff" => set_once(meta, &mut self.exponential_backoff, flag(meta)?)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A `const` expression of type `SensorSettings` with these options.
    pub(crate) fn settings(&self, krate: &TokenStream) -> TokenStream {
        let millis = |ms: u64| quote!(::core::time::Duration::from_millis(#ms));
        let mut settings = quote!(#krate::SensorSettings::DEFAULT);
        if let Some(ms) = self.poke_interval {
            let value = millis(ms);
            settings = quote!(#settings.with_poke_interval(#value));
        }
        if let Some(ms) = self.timeout {
            let value = millis(ms);
            settings = quote!(#settings.with_timeout(#value));
        }
        if let Some(ms) = self.max_wait {
            let value = millis(ms);
            settings = quote!(#settings.with_max_wait(#value));
        }
        if let Some(mode) = &self.mode {
            settings = quote!(#settings.with_mode(#krate::SensorMode::#mode));
        }
        if let Some(flag) = &self.soft_fail {
            settings = quote!(#settings.with_soft_fail(#flag));
        }
        if let Some(flag) = &self.exponential_backoff {
            settings = quote!(#settings.with_exponential_backoff(#flag));
        }
        settings
    }
}

/// A positive duration in milliseconds.
fn millis(meta: &ParseNestedMeta<'_>, key: &str, example: &str) -> syn::Result<u64> {
    duration(meta, key, example, true).map(|(millis, _)| millis)
}
