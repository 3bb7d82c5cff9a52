//! The model of a `#[task]` function: its parameters by kind and its output, keeping the
//! original syn nodes for spans.

use syn::{FnArg, Ident, ItemFn, Pat, ReturnType, Type};

/// A task function, checked and classified.
pub(crate) struct TaskFn {
    pub(crate) item: ItemFn,
    pub(crate) params: Vec<Param>,
    pub(crate) output: Output,
}

/// How a parameter gets its value. The referenced and optional types are kept as written;
/// the generated code maps them to the stored value's type through traits of the runtime, so
/// that a type is recognised for what it is, not for its name.
pub(crate) enum Param {
    /// `&Context` (or `&taskflow::Context`): injected by the executor, not wired. Holds the
    /// type, checked to be `taskflow::Context` in the generated code.
    Context(Type),
    /// `T`: the value, moved or cloned.
    Owned(Type),
    /// `&T`: the value shared by reference (`&'static T` is `Owned`). Holds `T` as written;
    /// an unsized view reads the type that owns it (`&[E]` a `Vec<E>`, `&str` a `String`,
    /// `&std::path::Path` a `PathBuf`).
    Shared(Type),
    /// `Option<T>`: the value, or `None` when the upstream task ended without one. Holds `T`.
    Optional(Type),
    /// `Option<&T>`: the same, by reference. Holds `T`.
    OptionalShared(Type),
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

/// Classifies the parameters and output of `item`; `valid` has checked it first. `krate` is
/// the path given with `crate = "..."`, under which `Context` is also the injected context.
pub(crate) fn task_fn(item: ItemFn, krate: Option<&syn::Path>) -> TaskFn {
    let params = item
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(param(&typed.ty, krate)),
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

fn param(ty: &Type, krate: Option<&syn::Path>) -> Param {
    match ungrouped(ty) {
        Type::Reference(reference) if is_injected_context(&reference.elem, krate) => {
            Param::Context((*reference.elem).clone())
        }
        // `&'static T` is a value like any other (a string literal, say), not a borrow.
        Type::Reference(reference) if reference.lifetime.is_some() => Param::Owned(ty.clone()),
        Type::Reference(reference) => Param::Shared((*reference.elem).clone()),
        other => match option_inner(other) {
            Some(Type::Reference(reference)) if reference.lifetime.is_none() => {
                Param::OptionalShared((*reference.elem).clone())
            }
            Some(inner) => Param::Optional(inner.clone()),
            None => Param::Owned(ty.clone()),
        },
    }
}

/// `ty` without the invisible groups of `macro_rules!` fragments.
fn ungrouped(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => ungrouped(&group.elem),
        other => other,
    }
}

/// Whether `elem` names taskflow's `Context` by one of its exact paths: `Context` (from the
/// prelude), `taskflow::Context`, `taskflow::prelude::Context`, or the same under the path
/// given with `crate = "..."`. Any other `Context` (`tera::Context`, `crate::Context`) is an
/// ordinary type.
fn is_injected_context(elem: &Type, krate: Option<&syn::Path>) -> bool {
    let Type::Path(path) = ungrouped(elem) else {
        return false;
    };
    if path.qself.is_some() || path.path.segments.iter().any(|s| !s.arguments.is_none()) {
        return false;
    }
    let names: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let krate: Vec<String> = krate.map_or_else(
        || vec!["taskflow".to_owned()],
        |path| path.segments.iter().map(|s| s.ident.to_string()).collect(),
    );
    match names.split_last() {
        Some((last, [])) => last == "Context",
        Some((last, prefix)) if last == "Context" => {
            let prefix = match prefix.split_last() {
                Some((prelude, rest)) if prelude == "prelude" => rest,
                _ => prefix,
            };
            prefix == krate.as_slice()
        }
        _ => false,
    }
}

/// `T` of `Option<T>`, written `Option`, `std::option::Option` or `core::option::Option`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ungrouped(ty) else {
        return None;
    };
    let segments = &path.path.segments;
    let names: Vec<String> = segments.iter().map(|s| s.ident.to_string()).collect();
    let exact = match names.as_slice() {
        [option] => option == "Option",
        [root, module, option] => {
            (root == "std" || root == "core") && module == "option" && option == "Option"
        }
        _ => false,
    };
    let leading_args = segments
        .iter()
        .rev()
        .skip(1)
        .any(|s| !s.arguments.is_none());
    if path.qself.is_some() || !exact || leading_args {
        return None;
    }
    match &segments.last()?.arguments {
        syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            syn::GenericArgument::Type(inner) => Some(ungrouped(inner)),
            _ => None,
        },
        _ => None,
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
