//! Checks on the user's function, each error spanned at the offending token.

use quote::quote;
use syn::{FnArg, ItemFn, ReturnType, Type};

use crate::ast::{is_simple_pattern, option_inner};

/// Collects every error into one, so the user sees all of them at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// What `#[task]` supports: a free function with plain-named, concretely typed parameters.
pub(crate) fn task_fn(item: &ItemFn) -> syn::Result<()> {
    let mut errors = Errors::default();
    let sig = &item.sig;
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            "#[task] functions cannot be generic: the DAG needs one concrete type per value; \
             write a task per type, or call a generic helper from a concrete task",
        ));
    }
    if let Some(clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(
            clause,
            "#[task] functions cannot have a where clause",
        ));
    }
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new_spanned(
            constness,
            "#[task] functions cannot be `const`",
        ));
    }
    if let syn::Safety::Unsafe(unsafety) = &sig.safety {
        errors.push(syn::Error::new_spanned(
            unsafety,
            "#[task] functions cannot be `unsafe`",
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            "#[task] functions cannot have an `extern` ABI",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "#[task] functions cannot be variadic",
        ));
    }
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push(syn::Error::new_spanned(
                receiver,
                "#[task] functions cannot take `self`: make it a free function and pass the \
                 value as a parameter",
            )),
            FnArg::Typed(typed) => {
                if !is_simple_pattern(&typed.pat) {
                    errors.push(syn::Error::new_spanned(
                        &typed.pat,
                        "#[task] parameters must be plain names (`orders: Vec<Order>`); destructure \
                         inside the body",
                    ));
                }
                check_param_type(&typed.ty, &mut errors);
            }
        }
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        if let Type::ImplTrait(impl_trait) = &**ty {
            errors.push(syn::Error::new_spanned(
                impl_trait,
                "#[task] functions cannot return `impl Trait`: the value needs a concrete type; \
                 use `async fn` for futures",
            ));
        }
    }
    errors.finish()
}

fn check_param_type(ty: &Type, errors: &mut Errors) {
    match ty {
        Type::ImplTrait(impl_trait) => errors.push(syn::Error::new_spanned(
            impl_trait,
            "#[task] parameters cannot be `impl Trait`: use a concrete type",
        )),
        Type::Reference(reference) => {
            if let Some(mutability) = &reference.mutability {
                let and_token = &reference.and_token;
                errors.push(syn::Error::new_spanned(
                    quote!(#and_token #mutability),
                    "#[task] parameters cannot be `&mut`: take the value by value (`T`) to change it",
                ));
            }
            if let Some(lifetime) = reference.lifetime.as_ref().filter(|l| l.ident != "static") {
                errors.push(syn::Error::new_spanned(
                    lifetime,
                    "#[task] parameters cannot name a lifetime other than `'static`: write `&T` to share an upstream value",
                ));
            }
            if matches!(&*reference.elem, Type::Reference(_)) {
                errors.push(syn::Error::new_spanned(
                    &reference.elem,
                    "#[task] parameters can be `T` or `&T`, not `&&T`",
                ));
            }
        }
        Type::Infer(infer) => errors.push(syn::Error::new_spanned(
            infer,
            "#[task] parameters need a type",
        )),
        // `Option<&T>` follows the rules of `&T`.
        other => {
            if let Some(inner @ Type::Reference(_)) = option_inner(other) {
                check_param_type(inner, errors);
            }
        }
    }
}

/// What `#[dag]` supports: a plain function returning nothing.
pub(crate) fn dag_fn(item: &ItemFn) -> syn::Result<()> {
    let mut errors = Errors::default();
    let sig = &item.sig;
    if let Some(asyncness) = &sig.asyncness {
        errors.push(syn::Error::new_spanned(
            asyncness,
            "a #[dag] function only wires tasks and cannot be `async`; make the tasks async instead",
        ));
    }
    if let Some(receiver) = sig.receiver() {
        errors.push(syn::Error::new_spanned(
            receiver,
            "a #[dag] function cannot take `self`",
        ));
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        errors.push(syn::Error::new_spanned(
            ty,
            "a #[dag] function returns nothing: the macro makes it return `taskflow::Result<Dag>`",
        ));
    }
    errors.finish()
}
