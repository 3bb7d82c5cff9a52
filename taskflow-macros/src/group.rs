//! `#[task_group]`: a function whose body wires tasks, run inside a task group.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{FnArg, ItemFn, LitBool, LitStr, Pat, Path, ReturnType, Type};

use crate::attr::{self, set_once};
use crate::settings::{self, Settings};
use crate::valid::Errors;
use crate::{fallback, krate};

const GROUP_OPTIONS: &str = "group_id, prefix_group_id, default_args, crate";

/// The options of `#[task_group(...)]`.
#[derive(Default)]
struct GroupAttr {
    group_id: Option<LitStr>,
    prefix_group_id: Option<LitBool>,
    default_args: Option<Settings>,
    krate: Option<Path>,
}

fn parse(tokens: TokenStream) -> syn::Result<GroupAttr> {
    let mut attr = GroupAttr::default();
    syn::meta::parser(|meta| {
        if meta.path.is_ident("group_id") {
            let id = group_id(&meta)?;
            set_once(&meta, &mut attr.group_id, id)
        } else if meta.path.is_ident("prefix_group_id") {
            let flag = settings::flag(&meta)?;
            set_once(&meta, &mut attr.prefix_group_id, flag)
        } else if meta.path.is_ident("default_args") {
            let settings = attr::default_args(&meta)?;
            set_once(&meta, &mut attr.default_args, settings)
        } else if meta.path.is_ident("crate") {
            let path = attr::crate_path(&meta)?;
            set_once(&meta, &mut attr.krate, path)
        } else {
            Err(attr::unknown(&meta, "task_group", GROUP_OPTIONS))
        }
    })
    .parse2(tokens)?;
    Ok(attr)
}

/// `group_id = "..."`, checked against Airflow's group id rules.
fn group_id(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    attr::checked_id(
        meta,
        "group_id",
        "my_group",
        false,
        "letters, digits, `_` or `-` (no `.`: it separates a group's id from its tasks' ids)",
    )
}

/// What `#[task_group]` supports: a free, synchronous function with plain-named parameters.
fn check(item: &ItemFn) -> syn::Result<()> {
    let mut errors = Errors::default();
    let sig = &item.sig;
    if let Some(asyncness) = &sig.asyncness {
        errors.push(syn::Error::new_spanned(
            asyncness,
            "#[task_group] functions cannot be `async`: the body wires tasks while the DAG is \
             built; make the tasks async instead",
        ));
    }
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new_spanned(
            constness,
            "#[task_group] functions cannot be `const`",
        ));
    }
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push(syn::Error::new_spanned(
                receiver,
                "#[task_group] goes on a free function, not a method",
            )),
            FnArg::Typed(typed) if !matches!(&*typed.pat, Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none()) => {
                errors.push(syn::Error::new_spanned(
                    &typed.pat,
                    "#[task_group] parameters need plain names (`files: Xcom<Vec<String>>`), \
                     not patterns",
                ))
            }
            FnArg::Typed(_) => {}
        }
    }
    errors.finish()
}

pub(crate) fn task_group(attr: TokenStream, item: TokenStream) -> TokenStream {
    let expected = "#[task_group] goes on a function whose body calls tasks";
    let checked = fallback::checked_function(item, expected, |item_fn| {
        crate::expand::both(parse(attr), check(item_fn))
    });
    let (item_fn, attr) = match checked {
        Ok(checked) => checked,
        Err(tokens) => return tokens,
    };
    let krate = krate(attr.krate.as_ref());
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = item_fn;
    let name = &sig.ident;
    let group_id = attr
        .group_id
        .map_or_else(|| name.to_string(), |id| id.value());
    let prefix = attr
        .prefix_group_id
        .map(|flag| quote!(.prefix_group_id(#flag)));
    let defaults = attr.default_args.map(|args| {
        let options = args.options(&krate);
        quote!(.default_args(#options))
    });
    let (generics, where_clause) = (&sig.generics, &sig.generics.where_clause);
    let inputs = &sig.inputs;
    let names = inputs.iter().filter_map(|input| match input {
        FnArg::Typed(typed) => match &*typed.pat {
            Pat::Ident(ident) => Some(&ident.ident),
            _ => None,
        },
        FnArg::Receiver(_) => None,
    });
    let value_type = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let unit = match &sig.output {
        ReturnType::Default => true,
        ReturnType::Type(_, ty) => matches!(&**ty, Type::Tuple(tuple) if tuple.elems.is_empty()),
    };
    // A body returning nothing gives the group itself, as in Airflow.
    let (output, pick) = if unit {
        (quote!(#krate::TaskGroupRef), quote!(.1))
    } else {
        (value_type.clone(), quote!(.0))
    };
    let with_group = format_ident!("with_group");
    let doc_type = format!(
        "Task group `{group_id}`: [`{name}::with_group`] returns the body's value and the group."
    );
    let doc_with = format!(
        "Runs task group `{group_id}` and returns the body's value with the group, to order \
         it as a whole (`start >> group >> load`)."
    );
    let expand = mapped_group(&krate, &vis, &group_id, &sig, unit);
    quote! {
        #(#attrs)*
        #[allow(clippy::too_many_arguments)]
        #vis fn #name #generics (#inputs) -> #output #where_clause {
            #name::#with_group(#(#names),*) #pick
        }

        #[doc = #doc_type]
        #[allow(non_camel_case_types, dead_code)]
        #vis enum #name {}

        #[allow(dead_code)]
        impl #name {
            #[doc = #doc_with]
            #[allow(clippy::too_many_arguments, unused_mut)]
            #vis fn #with_group #generics (#inputs) -> (#value_type, #krate::TaskGroupRef) #where_clause {
                #krate::TaskGroup::new(#group_id)
                    .add_suffix_on_collision(true)
                    #prefix
                    #defaults
                    .enter(move || #block)
            }

            #expand
        }
    }
}

/// `T` if `ty` is `Xcom<T>` (as written: the last path segment).
fn handle_value(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Xcom" {
        return None;
    }
    match &last.arguments {
        syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            syn::GenericArgument::Type(inner) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

/// `expand` of a group whose body returns a handle `Xcom<R>` (or nothing): the group's
/// `Xcom` parameters take handles, literals or `each(...)`; each map index runs a copy of
/// the group's tasks; the handle is to the copies' values in map-index order.
fn mapped_group(
    krate: &TokenStream,
    vis: &syn::Visibility,
    group_id: &str,
    sig: &syn::Signature,
    unit: bool,
) -> TokenStream {
    let value = match &sig.output {
        _ if unit => quote!(()),
        ReturnType::Type(_, ty) => match handle_value(ty) {
            Some(inner) => quote!(#inner),
            None => return TokenStream::new(),
        },
        ReturnType::Default => quote!(()),
    };
    let private = quote!(#krate::__private);
    let name = &sig.ident;
    let (generics, where_clause) = (&sig.generics, &sig.generics.where_clause);
    let mut params = Vec::new();
    let mut args = Vec::new();
    let mut placeholders = Vec::new();
    let mut names = Vec::new();
    for input in &sig.inputs {
        let FnArg::Typed(typed) = input else { continue };
        let Pat::Ident(ident) = &*typed.pat else {
            continue;
        };
        let param = &ident.ident;
        names.push(param);
        match handle_value(&typed.ty) {
            Some(inner) => {
                params.push(quote!(#param: impl #private::IntoArg<#inner>));
                args.push(quote!(#private::arg::<#inner, _>(#param, #private::Mode::Borrowed).0));
                placeholders.push(
                    quote!(let #param: #krate::Xcom<#inner> = #private::group_param::<#inner>();),
                );
            }
            None => {
                let ty = &typed.ty;
                params.push(quote!(#param: #ty));
            }
        }
    }
    let value_type: Type = syn::parse_quote!(#value);
    let codec = crate::expand::codec_probe(&private, &syn::parse_quote!(::std::vec::Vec<#value>));
    let clone = crate::expand::clone_probe(&private, &value_type);
    let doc = format!(
        "Task group `{group_id}` mapped at run time (Airflow's mapped task group): each map \
         index runs a copy of the group's tasks, with the `each(...)` arguments' elements (the \
         cross product, last argument fastest) and the other arguments the same for all; inside \
         a copy, each task waits only for the tasks of its own copy. The handle is to the \
         copies' values in map-index order (those that produced one)."
    );
    quote! {
        #[doc = #doc]
        #[allow(clippy::too_many_arguments)]
        #vis fn expand #generics (#(#params),*) -> #krate::Xcom<::std::vec::Vec<#value>> #where_clause {
            #private::add_mapped_group::<#value>(
                #group_id,
                ::std::vec![#(#args),*],
                move || {
                    #(#placeholders)*
                    #private::group_result(#name(#(#names),*))
                },
                #private::collected::<#value>(#codec, #clone),
            )
        }
    }
}
