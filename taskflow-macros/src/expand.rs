//! Code generation. A `#[task] fn total(..)` becomes:
//! - `fn total(..) -> Xcom<T>`: adds a node to the DAG being built (each argument a literal or
//!   a handle of exactly the parameter's type);
//! - `total::call(..)`: the original function, callable directly;
//! - `total::with(options).add(..)`: the same node with per-call options.
//!
//! `total` is also an uninhabited type (types and functions live in different namespaces), so
//! that `total::call` works wherever the function is visible, with no module and no change of
//! scope for the body.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, Ident, ItemFn, Pat, Path, Type};

use crate::ast::{self, Output, Param, TaskFn};
use crate::attr::{self, TaskAttr};
use crate::{fallback, valid};

pub(crate) fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    task_or_sensor(attr, item, false)
}

pub(crate) fn sensor(attr: TokenStream, item: TokenStream) -> TokenStream {
    task_or_sensor(attr, item, true)
}

fn task_or_sensor(attr: TokenStream, item: TokenStream, sensor: bool) -> TokenStream {
    let item_fn: ItemFn = match syn::parse2(item.clone()) {
        Ok(item_fn) => item_fn,
        Err(_) => {
            let what = if sensor { "#[sensor]" } else { "#[task]" };
            let message = format!("{what} goes on a function (`fn` or `async fn`)");
            let error = fallback::not_a_function(&item, &message);
            return fallback::with_error(item, error);
        }
    };
    // Both the options and the signature are checked, so that the user sees every error.
    let checked = both(attr::parse_task(attr, sensor), valid::task_fn(&item_fn));
    let checked = checked.and_then(|attr| {
        let task = ast::task_fn(item_fn.clone(), attr.krate.as_ref());
        if attr.sensor.is_some() {
            let message = "a #[sensor] function returns `Poke<T>` or `bool` (or a `Result` of \
                           one): `Poke::Done(value)` when the condition holds, `Poke::NotYet` \
                           otherwise";
            match ast::success_type(&task.output) {
                None if matches!(task.output, Output::Unit) => {
                    return Err(syn::Error::new_spanned(&item_fn.sig.ident, message));
                }
                Some(ty) if !ast::is_poke_or_bool(ty) => {
                    return Err(syn::Error::new_spanned(ty, message));
                }
                _ => {}
            }
        }
        match (&attr.multiple_outputs, ast::tuple_parts(&task.output)) {
            (Some(option), None) => Err(syn::Error::new_spanned(
                option,
                "`multiple_outputs` needs a function returning a tuple of two or more values, \
                 `(A, B)` or `Result<(A, B), E>`",
            )),
            _ => Ok((attr, task)),
        }
    });
    match checked {
        Ok((attr, task)) => expand_task(&attr, task),
        Err(error) => fallback::item_with_error(&item_fn, error),
    }
}

pub(crate) fn dag(attr: TokenStream, item: TokenStream) -> TokenStream {
    let expected = "#[dag] goes on a function whose body calls tasks";
    let checked = fallback::checked_function(item, expected, |item_fn| {
        both(attr::parse_dag(attr), valid::dag_fn(item_fn))
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
    let dag_id = attr
        .dag_id
        .map_or_else(|| name.to_string(), |id| id.value());
    let inputs = &sig.inputs;
    let success = attr
        .on_success_callback
        .iter()
        .map(|f| quote!(.on_success_callback(#f)));
    let failure = attr
        .on_failure_callback
        .iter()
        .map(|f| quote!(.on_failure_callback(#f)));
    let tasks_limit = attr
        .max_active_tasks
        .iter()
        .map(|limit| quote!(.max_active_tasks(#limit)));
    let runs_limit = attr
        .max_active_runs
        .iter()
        .map(|limit| quote!(.max_active_runs(#limit)));
    let schedule = attr.schedule.builder_calls(&krate);
    let run_callbacks =
        quote!(#(#success)* #(#failure)* #(#tasks_limit)* #(#runs_limit)* #schedule);
    let default_args = attr.default_args.map_or_else(
        || quote!(#krate::TaskOptions::EMPTY),
        |args| args.options(&krate),
    );
    quote! {
        #(#attrs)*
        #vis fn #name(#inputs) -> #krate::Result<#krate::Dag> {
            #krate::Dag::builder(#dag_id)
                .default_args(#default_args)
                #run_callbacks
                .build(move || #block)
        }
    }
}

/// The options if both they and the signature are fine, else the errors of both.
pub(crate) fn both<T>(options: syn::Result<T>, signature: syn::Result<()>) -> syn::Result<T> {
    match (options, signature) {
        (Ok(options), Ok(())) => Ok(options),
        (Err(mut error), Err(other)) => {
            error.combine(other);
            Err(error)
        }
        (Err(error), Ok(())) | (Ok(_), Err(error)) => Err(error),
    }
}

pub(crate) fn krate(path: Option<&Path>) -> TokenStream {
    path.map_or_else(|| quote!(::taskflow), |path| quote!(#path))
}

fn expand_task(attr: &TaskAttr, task: TaskFn) -> TokenStream {
    let krate = krate(attr.krate.as_ref());
    let private = quote!(#krate::__private);
    let name = task.name();
    let vis = &task.item.vis;
    let attrs = UserAttrs::sort(&task.item.attrs);
    let cfgs = &attrs.cfgs;
    let wiring_attrs = attrs.wiring();
    let with_type = format_ident!("__taskflow_with_{}", name);
    let default_id = attr
        .task_id
        .as_ref()
        .map_or_else(|| name.to_string(), |id| id.value());

    let output_type = match (&task.output, &attr.sensor) {
        (Output::Unit, _) => quote!(()),
        (Output::Plain(ty), None) => quote!(#ty),
        (Output::Fallible(ty), None) => quote_spanned!(ty.span()=> <#ty as #private::Fallible>::Ok),
        (Output::Plain(ty), Some(_)) => {
            quote_spanned!(ty.span()=> <#ty as #krate::IntoPoke>::Value)
        }
        (Output::Fallible(ty), Some(_)) => quote_spanned!(ty.span()=>
            <<#ty as #private::Fallible>::Ok as #krate::IntoPoke>::Value
        ),
    };
    let parts = attr
        .multiple_outputs
        .as_ref()
        .and_then(|_| ast::tuple_parts(&task.output));
    let wrap = |value: TokenStream| match (&parts, &task.output) {
        (Some(parts), output) => {
            let names: Vec<Ident> = (0..parts.len())
                .map(|i| format_ident!("__taskflow_part{}", i))
                .collect();
            let split = quote! {{
                let (#(#names,)*) = __value;
                #private::output_parts(::std::vec![#(#private::part(#names)),*])
            }};
            match output {
                Output::Fallible(_) => quote! {
                    match #value {
                        #private::Result::Ok(__value) => #split,
                        #private::Result::Err(error) => #private::Result::Err(::core::convert::Into::into(error)),
                    }
                },
                _ => quote! {{ let __value = #value; #split }},
            }
        }
        (None, Output::Fallible(ty)) if attr.sensor.is_some() => {
            quote_spanned!(ty.span()=> #private::poked_result(#value))
        }
        (None, Output::Plain(ty)) if attr.sensor.is_some() => {
            quote_spanned!(ty.span()=> #private::poked(#value))
        }
        (None, Output::Fallible(ty)) => quote_spanned!(ty.span()=> #private::output_result(#value)),
        // A `Result` under another name (an alias) still fails the task with its `Err`.
        (None, Output::Plain(ty)) => quote_spanned! {ty.span()=>
            {
                #[allow(unused_imports)]
                use #private::{ViaResult as _, ViaValue as _};
                let outcome = (&&#private::OutputProbe::<#ty>(#private::PhantomData)).outcome_fn();
                outcome(#value)
            }
        },
        (None, _) => quote!(#private::output(#value)),
    };
    let is_async = task.is_async();
    let output_parts = parts.as_ref().map_or(0, Vec::len) as u32;
    let codec = match &parts {
        Some(parts) => {
            let index = 0..parts.len() as u32;
            let part_codecs = parts.iter().map(|part| codec_probe(&private, part));
            quote! {
                match part {
                    #private::Option::None => #private::Codec::shallow::<#output_type>(),
                    #(#private::Option::Some(#index) => #part_codecs,)*
                    #private::Option::Some(_) => #private::Codec::NONE,
                }
            }
        }
        None => {
            let whole = codec_probe(&private, &syn::parse_quote!(#output_type));
            quote! {
                match part {
                    #private::Option::None => #whole,
                    #private::Option::Some(_) => #private::Codec::NONE,
                }
            }
        }
    };
    let handle_type = match &parts {
        Some(parts) => quote!((#(#krate::Xcom<#parts>,)*)),
        None => quote!(#krate::Xcom<#output_type>),
    };

    // Named as the user named them, so that rustc's messages about a call (a missing
    // argument, say) name the parameter.
    let param_names = task
        .item
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(&*typed.pat),
            FnArg::Receiver(_) => None,
        })
        .enumerate()
        .map(|(i, pat)| match pat {
            Pat::Ident(pat) => pat.ident.clone(),
            _ => format_ident!("__taskflow_arg{}", i),
        });
    // Each wired parameter: its name, its type's span as written (for rustc's notes about
    // the arguments), the trait an argument implements (`IntoArg<T>`, or `IntoOptionArg<T>`
    // for an `Option`), with the type of the value it reads, and how it reads it.
    let param_spans = task.item.sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(typed) => Some(typed.ty.span()),
        FnArg::Receiver(_) => None,
    });
    let into_arg = (quote!(IntoArg), quote!(arg));
    let into_option_arg = (quote!(IntoOptionArg), quote!(option_arg));
    let wired: Vec<(Ident, Span, _, TokenStream, TokenStream)> = task
        .params
        .iter()
        .zip(param_names)
        .zip(param_spans)
        .filter_map(|((param, name), span)| {
            let borrowed = quote!(#private::Mode::Borrowed);
            let (kind, ty, mode) = match param {
                Param::Context(_) => return None,
                Param::Owned(ty) => {
                    let probe = clone_probe(&private, ty);
                    let mode = quote_spanned!(ty.span()=> #private::owned_mode::<#ty>(#probe));
                    (&into_arg, quote!(#ty), mode)
                }
                Param::Shared(elem) => (&into_arg, owner(&private, elem), borrowed),
                Param::Optional(inner) => {
                    let probe = clone_probe(&private, inner);
                    let mode =
                        quote_spanned!(inner.span()=> #private::owned_mode::<#inner>(#probe));
                    (&into_option_arg, quote!(#inner), mode)
                }
                Param::OptionalShared(elem) => (&into_option_arg, owner(&private, elem), borrowed),
            };
            Some((name, span, kind, ty, mode))
        })
        .collect();
    let arg_names: Vec<&Ident> = wired.iter().map(|(name, ..)| name).collect();
    let arg_params = wired.iter().map(|(name, span, (bound, _), ty, _)| {
        // The whole bound at the parameter's type: rustc's "required by this bound" note
        // then points at the parameter rather than at `#[task]`.
        let bound = respan(quote!(#private::#bound<#ty>), *span);
        quote_spanned!(*span=> #name: impl #bound)
    });
    let arg_params: Vec<TokenStream> = arg_params.collect();
    let arg_specs: Vec<TokenStream> = wired
        .iter()
        .map(|(name, span, (_, spec), ty, mode)| {
            quote_spanned!(*span=> #private::#spec::<#ty, _>(#name, #mode))
        })
        .collect();
    let handles = match &parts {
        Some(parts) => {
            let index = 0..parts.len() as u32;
            quote!({
                let whole = #private::add_task::<#output_type>(Self::body(), self.0, [#(#arg_specs),*]);
                (#(whole.__part::<#parts>(#index),)*)
            })
        }
        None => quote!(#private::add_task::<#output_type>(Self::body(), self.0, [#(#arg_specs),*])),
    };
    // `expand`: the same arguments, any of them mapped with `each`; `expand_kwargs`: one
    // argument set per instance, converted into the tuple of the parameters' types.
    let mapped_type = quote!(#krate::Xcom<::std::vec::Vec<#output_type>>);
    let vec_codec = codec_probe(&private, &syn::parse_quote!(::std::vec::Vec<#output_type>));
    let output_clone = clone_probe(&private, &syn::parse_quote!(#output_type));
    let collected = quote_spanned! {output_type.span()=>
        #private::collected::<#output_type>(#vec_codec, #output_clone)
    };
    let mapped_specs = wired.iter().map(|(name, span, (_, spec), ty, mode)| {
        quote_spanned!(*span=> #private::#spec::<#ty, _>(#name, #mode).0)
    });
    let expand_body = quote! {
        #private::add_mapped_task::<#output_type>(
            Self::body(),
            self.0,
            ::std::vec![#(#mapped_specs),*],
            #collected,
        )
    };
    let param_types: Vec<&TokenStream> = wired.iter().map(|(_, _, _, ty, _)| ty).collect();
    let tuple_type = quote!((#(#param_types,)*));
    let tuple_names: Vec<Ident> = (0..wired.len())
        .map(|i| format_ident!("__taskflow_part{}", i))
        .collect();
    let width = wired.len() as u32;
    let expand_kwargs_body = quote! {
        #private::add_mapped_task::<#output_type>(
            Self::body(),
            self.0,
            ::std::vec![#private::argument_sets::<__M, #tuple_type>(source, #width, |item| {
                let (#(#tuple_names,)*) = ::core::convert::Into::<#tuple_type>::into(item);
                ::std::vec![#(#private::Value::new(#tuple_names)),*]
            })],
            #collected,
        )
    };

    // In `invoke`: read each argument, then call the plain function.
    let reads = task.params.iter().enumerate().map(|(i, param)| {
        let local = format_ident!("__taskflow_arg{}", i);
        let failed = quote! {
            #private::Result::Err(error) => return #private::Invocation::failed(error),
        };
        match param {
            Param::Context(_) => quote!(let #local = __args.context();),
            Param::Owned(ty) => {
                let probe = clone_probe(&private, ty);
                quote_spanned! {ty.span()=>
                    let #local: #ty = match __args.take::<#ty>(#probe) {
                        #private::Result::Ok(value) => value,
                        #failed
                    };
                }
            }
            Param::Shared(elem) => {
                let owner = owner(&private, elem);
                quote_spanned! {elem.span()=>
                    let #local: #private::SharedArg<#owner> = match __args.share::<#owner>() {
                        #private::Result::Ok(value) => value,
                        #failed
                    };
                }
            }
            Param::Optional(inner) => {
                let probe = clone_probe(&private, inner);
                quote_spanned! {inner.span()=>
                    let #local: #private::Option<#inner> = match __args.take_or_none::<#inner>(#probe) {
                        #private::Result::Ok(value) => value,
                        #failed
                    };
                }
            }
            Param::OptionalShared(elem) => {
                let owner = owner(&private, elem);
                quote_spanned! {elem.span()=>
                    let #local: #private::SharedOrNone<#owner> = match __args.share_or_none::<#owner>() {
                        #private::Result::Ok(value) => value,
                        #failed
                    };
                }
            }
        }
    });
    let call_args = task.params.iter().enumerate().map(|(i, param)| {
        let local = format_ident!("__taskflow_arg{}", i);
        match param {
            Param::Owned(_) | Param::Optional(_) => quote!(#local),
            Param::Context(elem) => quote_spanned! {elem.span()=>
                <#elem as #private::InjectedContext>::from_context(&#local)
            },
            Param::Shared(elem) => quote_spanned! {elem.span()=>
                <#elem as #private::SharedParam>::view(&*#local)
            },
            Param::OptionalShared(elem) => quote_spanned! {elem.span()=>
                #local.get().map(<#elem as #private::SharedParam>::view)
            },
        }
    });
    let call = quote!(#name::call(#(#call_args),*));
    let run = if task.is_async() {
        let wrapped = wrap(quote!(#call.await));
        quote!(#private::Invocation::Pending(#private::Box::pin(async move { #wrapped })))
    } else {
        let wrapped = wrap(call);
        quote!(#private::Invocation::Ready(#wrapped))
    };
    let options = attr.settings.options(&krate);
    let kind = match (&attr.branch, &attr.short_circuit) {
        (Some(branch), _) => quote_spanned! {branch.span()=>
            #private::TaskKind::Branch(#private::branch_targets::<#output_type>)
        },
        (_, Some(short_circuit)) => {
            let ignore = attr
                .ignore_downstream_trigger_rules
                .as_ref()
                .is_none_or(syn::LitBool::value);
            quote_spanned! {short_circuit.span()=>
                {
                    #private::returns_bool::<#output_type>();
                    #private::TaskKind::ShortCircuit { proceed: #private::proceeds, ignore_downstream_trigger_rules: #ignore }
                }
            }
        }
        _ => match &attr.sensor {
            Some(sensor) => {
                let settings = sensor.settings(&krate);
                quote!(#private::TaskKind::Sensor(#settings))
            }
            None => quote!(#private::TaskKind::Plain),
        },
    };
    let plain = plain_fn(&task.item, &attrs);
    let doc_call = format!(
        "The plain function of task `{name}`, callable directly (for example in unit tests)."
    );
    let doc_with =
        format!("Task `{name}` with per-call options (like Airflow's `.override(...)`).");
    let doc_expand = format!(
        "Task `{name}` mapped at run time: one instance per element of each `each(...)` argument \
         (the cross product, last argument fastest), the other arguments the same for all \
         (Airflow's `.partial(...).expand(...)`). The handle is to the instances' values in \
         map-index order."
    );
    let doc_expand_kwargs = format!(
        "Task `{name}` mapped over argument sets: one instance per element of `source`, which \
         converts into the tuple of the task's parameters (Airflow's `.expand_kwargs(...)`)."
    );
    let doc_type = format!(
        "Task `{name}`: [`{name}::call`] runs the plain function, [`{name}::with`] sets per-call options."
    );

    quote! {
        #(#wiring_attrs)*
        #[allow(clippy::too_many_arguments)]
        #vis fn #name(#(#arg_params),*) -> #handle_type {
            #with_type(#private::Option::None).add(#(#arg_names),*)
        }

        #(#cfgs)*
        #[doc = #doc_type]
        #[allow(non_camel_case_types, dead_code)]
        #vis enum #name {}

        #(#cfgs)*
        #[allow(dead_code)]
        impl #name {
            #[doc = #doc_call]
            #plain

            #[doc = #doc_with]
            #vis fn with(options: impl ::core::convert::Into<#krate::TaskOptions>) -> #with_type {
                #with_type(#private::Option::Some(#private::Box::new(options.into())))
            }

            #[doc = #doc_expand]
            #[allow(clippy::too_many_arguments)]
            #vis fn expand(#(#arg_params),*) -> #mapped_type {
                #with_type(#private::Option::None).expand(#(#arg_names),*)
            }

            #[doc = #doc_expand_kwargs]
            #vis fn expand_kwargs<__M>(source: __M) -> #mapped_type
            where
                __M: #krate::Mappable,
                __M::Item: ::core::convert::Into<#tuple_type> + ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                #with_type(#private::Option::None).expand_kwargs(source)
            }
        }

        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #with_type(#private::Option<#private::Box<#krate::TaskOptions>>);

        #(#cfgs)*
        impl #with_type {
            /// Adds the task to the DAG being built, with these options.
            #[allow(clippy::too_many_arguments)]
            #vis fn add(self, #(#arg_params),*) -> #handle_type {
                #handles
            }

            /// Adds the task mapped over its `each(...)` arguments, with these options.
            #[allow(clippy::too_many_arguments)]
            #vis fn expand(self, #(#arg_params),*) -> #mapped_type {
                #expand_body
            }

            /// Adds the task mapped over argument sets, with these options.
            #vis fn expand_kwargs<__M>(self, source: __M) -> #mapped_type
            where
                __M: #krate::Mappable,
                __M::Item: ::core::convert::Into<#tuple_type> + ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                #expand_kwargs_body
            }

            fn body() -> &'static dyn #private::TaskBody {
                struct Body;
                impl #private::TaskBody for Body {
                    fn name(&self) -> &'static str {
                        #default_id
                    }
                    fn options(&self) -> &#krate::TaskOptions {
                        static OPTIONS: #krate::TaskOptions = #options;
                        &OPTIONS
                    }
                    fn kind(&self) -> #private::TaskKind {
                        #kind
                    }
                    fn is_async(&self) -> bool {
                        #is_async
                    }
                    fn output_parts(&self) -> u32 {
                        #output_parts
                    }
                    fn output_type(&self) -> &'static str {
                        #private::type_name::<#output_type>()
                    }
                    fn codec(&self, part: #private::Option<u32>) -> #private::Codec {
                        #codec
                    }
                    // The user's attributes (`#[deprecated]`, say) are on `call`, which this
                    // calls on their behalf.
                    #[allow(deprecated)]
                    fn invoke(&self, __args: &mut #private::Args<'_>) -> #private::Invocation {
                        #(#reads)*
                        #run
                    }
                }
                &Body
            }
        }
    }
}

/// `tokens` with every token at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// `Some(T::clone)` if the parameter type is `Clone`, else `None`, decided at compile time.
pub(crate) fn clone_probe(private: &TokenStream, ty: &Type) -> TokenStream {
    quote_spanned! {ty.span()=>
        {
            #[allow(unused_imports)]
            use #private::{ViaClone as _, ViaNoClone as _};
            (&&#private::CloneProbe::<#ty>(#private::PhantomData)).clone_fn()
        }
    }
}

/// The JSON codec of a value type: an encoder if it is `Serialize`, a decoder if it is
/// `Deserialize`, decided at compile time without a bound on the type.
pub(crate) fn codec_probe(private: &TokenStream, ty: &Type) -> TokenStream {
    quote_spanned! {ty.span()=>
        {
            #[allow(unused_imports)]
            use #private::{
                ViaDeserialize as _, ViaNoDeserialize as _, ViaNoSerialize as _, ViaSerialize as _,
            };
            #private::Codec::of::<#ty>(
                (&&#private::SerializeProbe::<#ty>(#private::PhantomData)).encoder(),
                (&&#private::DeserializeProbe::<#ty>(#private::PhantomData)).decoder(),
            )
        }
    }
}

/// The type of the upstream value a `&elem` parameter reads: `elem` itself, or the type that
/// owns an unsized view (`String` for `str`), as the runtime's `SharedParam` says.
fn owner(private: &TokenStream, elem: &Type) -> TokenStream {
    quote_spanned!(elem.span()=> <#elem as #private::SharedParam>::Owner)
}

/// The user's attributes on a task function, by where they go.
struct UserAttrs<'a> {
    /// `#[cfg(..)]`: on every generated item.
    cfgs: Vec<&'a Attribute>,
    /// Doc comments: on the function that adds the task (what users call and read).
    docs: Vec<&'a Attribute>,
    /// `#[allow]`, `#[warn]`, `#[deny]`, `#[forbid]`, `#[deprecated]`: on both functions.
    lints: Vec<&'a Attribute>,
    /// Everything else (`#[tracing::instrument]`, `#[expect]`, `#[must_use]`): on the
    /// user's function, `call`, whose parameters and body they are written for.
    rest: Vec<&'a Attribute>,
}

impl<'a> UserAttrs<'a> {
    fn sort(attrs: &'a [Attribute]) -> Self {
        let mut sorted = Self {
            cfgs: Vec::new(),
            docs: Vec::new(),
            lints: Vec::new(),
            rest: Vec::new(),
        };
        for attr in attrs {
            let path = attr.path();
            let list = if path.is_ident("cfg") {
                &mut sorted.cfgs
            } else if path.is_ident("doc") {
                &mut sorted.docs
            } else if ["allow", "warn", "deny", "forbid", "deprecated"]
                .iter()
                .any(|lint| path.is_ident(lint))
            {
                &mut sorted.lints
            } else {
                &mut sorted.rest
            };
            list.push(attr);
        }
        sorted
    }

    /// The attributes of the function that adds the task.
    fn wiring(&self) -> impl Iterator<Item = &&'a Attribute> {
        self.cfgs.iter().chain(&self.docs).chain(&self.lints)
    }
}

/// The user's function as `call`: same signature and body, with the user's attributes other
/// than docs (the impl it is in carries the `cfg`s).
fn plain_fn(item: &ItemFn, attrs: &UserAttrs<'_>) -> TokenStream {
    let mut sig = item.sig.clone();
    sig.ident = Ident::new("call", sig.ident.span());
    for input in &mut sig.inputs {
        if let FnArg::Typed(typed) = input {
            typed.attrs.clear();
        }
    }
    let vis = &item.vis;
    let block = &item.block;
    let attrs = attrs.lints.iter().chain(&attrs.rest);
    quote! {
        #(#attrs)*
        #vis #sig #block
    }
}
