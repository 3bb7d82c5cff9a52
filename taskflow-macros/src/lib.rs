//! Procedural macros of `taskflow`: `#[task]`, `#[sensor]`, `#[dag]` and `#[task_group]`. Use them through the `taskflow`
//! crate, which re-exports them and documents them.

#![forbid(unsafe_code)]

mod ast;
mod attr;
mod duration;
mod expand;
mod fallback;
mod group;
mod schedule;
mod sensor;
mod settings;
mod valid;

use expand::krate;
use proc_macro::TokenStream;

/// Turns a function into a task. Documented in the `taskflow` crate.
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::task(attr.into(), item.into()).into()
}

/// Turns a function that checks a condition once into a sensor task. Documented in the
/// `taskflow` crate.
#[proc_macro_attribute]
pub fn sensor(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::sensor(attr.into(), item.into()).into()
}

/// Turns a function that calls tasks into a DAG builder. Documented in the `taskflow` crate.
#[proc_macro_attribute]
pub fn dag(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::dag(attr.into(), item.into()).into()
}

/// Turns a function that calls tasks into a task group. Documented in the `taskflow` crate.
#[proc_macro_attribute]
pub fn task_group(attr: TokenStream, item: TokenStream) -> TokenStream {
    group::task_group(attr.into(), item.into()).into()
}
