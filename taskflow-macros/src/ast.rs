//! The model of a `#[task]` function: its parameters by kind and its output, keeping the
//! original syn nodes for spans.

use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType, Type};

/// A task function, checked and classified.
pub(crate) struct TaskFn {
    pub(crate) item: ItemFn,
    pub(crate) params: Vec<Param>,
    pub(crate) output: Output,
}

/// How a parameter gets its value.
pub(crate) enum Param {
    /// `&Context`: injected by the executor, not wired.
    Context,
    /// `T`: the value, moved or cloned.
    Owned(Type),
    /// `&T`: the value shared by reference (`&'static T` is `Owned`). Holds the type of the
    /// upstream value: `T`, or the owning type of an unsized view (`&[E]` reads a `Vec<E>`,
    /// `&str` a `String`, `&Path` a `PathBuf`).
    Shared(Type),
}

/// What the function returns.
pub(crate) enum Output {
    /// Nothing (`()`).
    Unit,
    /// A value.
    Plain(Type),
    /// A `Result` whose error converts into `TaskError`.
    Fallible(Type),
}

impl TaskFn {
    pub(crate) fn name(&self) -> &Ident {
        &self.item.sig.ident
    }

    pub(crate) fn is_async(&self) -> bool {
        self.item.sig.asyncness.is_some()
    }
}

/// Classifies the parameters and output of `item`; `valid` has checked it first.
pub(crate) fn task_fn(item: ItemFn) -> TaskFn {
    let params = item
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(param(&typed.ty)),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let output = match &item.sig.output {
        ReturnType::Default => Output::Unit,
        ReturnType::Type(_, ty) if is_unit(ty) => Output::Unit,
        ReturnType::Type(_, ty) if last_segment_is(ty, "Result") => {
            Output::Fallible((**ty).clone())
        }
        ReturnType::Type(_, ty) => Output::Plain((**ty).clone()),
    };
    TaskFn {
        item,
        params,
        output,
    }
}

fn param(ty: &Type) -> Param {
    match ty {
        Type::Reference(reference) if last_segment_is(&reference.elem, "Context") => Param::Context,
        // `&'static T` is a value like any other (a string literal, say), not a borrow.
        Type::Reference(reference) if reference.lifetime.is_some() => Param::Owned(ty.clone()),
        Type::Reference(reference) => Param::Shared(owning_type(&reference.elem)),
        other => Param::Owned(other.clone()),
    }
}

/// The type of the upstream value a `&elem` parameter reads: unsized views read the type
/// that owns them, which derefs to the view at the call.
fn owning_type(elem: &Type) -> Type {
    let span = elem.span();
    match elem {
        Type::Slice(slice) => {
            let item = &slice.elem;
            syn::parse_quote_spanned!(span=> ::std::vec::Vec<#item>)
        }
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
            syn::parse_quote_spanned!(span=> ::std::string::String)
        }
        Type::Path(path) if last_segment_is(elem, "Path") && path.path.segments.len() <= 3 => {
            syn::parse_quote_spanned!(span=> ::std::path::PathBuf)
        }
        other => other.clone(),
    }
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
}

pub(crate) fn last_segment_is(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(path) => {
            path.qself.is_none() && path.path.segments.last().is_some_and(|s| s.ident == name)
        }
        Type::Group(group) => last_segment_is(&group.elem, name),
        Type::Paren(paren) => last_segment_is(&paren.elem, name),
        _ => false,
    }
}

/// Whether a parameter pattern is a plain name (`x`, `mut x`, `_`), the only kind supported.
pub(crate) fn is_simple_pattern(pat: &Pat) -> bool {
    match pat {
        Pat::Ident(ident) => ident.by_ref.is_none() && ident.subpat.is_none(),
        Pat::Wild(_) => true,
        _ => false,
    }
}

/// The element types of a tuple return value (`(A, B)` or `Result<(A, B), E>`), for
/// `multiple_outputs`; `None` if the function does not return a tuple of two or more.
pub(crate) fn tuple_parts(output: &Output) -> Option<Vec<Type>> {
    match success_type(output)? {
        Type::Tuple(tuple) if tuple.elems.len() >= 2 => Some(tuple.elems.iter().cloned().collect()),
        _ => None,
    }
}

/// The type of the value a function returns on success: `T` of `T` or `Result<T, E>`.
pub(crate) fn success_type(output: &Output) -> Option<&Type> {
    match output {
        Output::Plain(ty) => Some(ty),
        Output::Fallible(Type::Path(path)) => {
            let last = path.path.segments.last()?;
            match &last.arguments {
                syn::PathArguments::AngleBracketed(args) => match args.args.first()? {
                    syn::GenericArgument::Type(ty) => Some(ty),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether a type is written as `Poke<..>` or `bool`, what a sensor returns.
pub(crate) fn is_poke_or_bool(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == "Poke" || last.ident == "bool"),
        Type::Paren(inner) => is_poke_or_bool(&inner.elem),
        _ => false,
    }
}
