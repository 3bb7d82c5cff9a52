//! The error path: the user's item unchanged plus the errors, so that only the macro's error
//! shows and the editor keeps working.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{Ident, Item, ItemFn};

pub(crate) fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let mut tokens = item;
    tokens.extend(error.into_compile_error());
    tokens
}

pub(crate) fn item_with_error(item: &impl ToTokens, error: syn::Error) -> TokenStream {
    with_error(item.to_token_stream(), error)
}

/// `item` as a function, or else the item unchanged with [`not_a_function`]'s error.
/// The function under a `#[dag]`-like attribute and its options, checked by `check`, or the
/// tokens that keep the function and report what is wrong.
pub(crate) fn checked_function<A>(
    item: TokenStream,
    expected: &str,
    check: impl FnOnce(&ItemFn) -> syn::Result<A>,
) -> Result<(ItemFn, A), TokenStream> {
    let item_fn = function(item, expected)?;
    match check(&item_fn) {
        Ok(attr) => Ok((item_fn, attr)),
        Err(error) => Err(item_with_error(&item_fn, error)),
    }
}

pub(crate) fn function(item: TokenStream, expected: &str) -> Result<ItemFn, TokenStream> {
    syn::parse2(item.clone()).map_err(|_| {
        let error = not_a_function(&item, expected);
        with_error(item, error)
    })
}

/// The error for an attribute on something other than a function with a body: at the item's
/// keyword and name (`struct Extract`), saying what the item is.
pub(crate) fn not_a_function(item: &TokenStream, expected: &str) -> syn::Error {
    let found = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Struct(item)) => Some(("a struct", named(&item.struct_token, &item.ident))),
        Ok(Item::Enum(item)) => Some(("an enum", named(&item.enum_token, &item.ident))),
        Ok(Item::Union(item)) => Some(("a union", named(&item.union_token, &item.ident))),
        Ok(Item::Trait(item)) => Some(("a trait", named(&item.trait_token, &item.ident))),
        Ok(Item::Impl(item)) => Some(("an impl block", item.impl_token.to_token_stream())),
        Ok(Item::Mod(item)) => Some(("a module", named(&item.mod_token, &item.ident))),
        Ok(Item::Const(item)) => Some(("a const", named(&item.const_token, &item.ident))),
        Ok(Item::Static(item)) => Some(("a static", named(&item.static_token, &item.ident))),
        Ok(Item::Type(item)) => Some(("a type alias", named(&item.type_token, &item.ident))),
        Ok(Item::Use(item)) => Some(("a `use`", item.use_token.to_token_stream())),
        _ => None,
    };
    match found {
        Some((what, tokens)) => {
            syn::Error::new_spanned(tokens, format_args!("{expected}, not on {what}"))
        }
        None => syn::Error::new(Span::call_site(), expected),
    }
}

fn named(keyword: &impl ToTokens, name: &Ident) -> TokenStream {
    quote!(#keyword #name)
}
