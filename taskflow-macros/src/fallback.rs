//! The error path: the user's item unchanged plus the errors, so that only the macro's error
//! shows and the editor keeps working.

use proc_macro2::TokenStream;
use quote::ToTokens;

pub(crate) fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let mut tokens = item;
    tokens.extend(error.into_compile_error());
    tokens
}

pub(crate) fn item_with_error(item: &impl ToTokens, error: syn::Error) -> TokenStream {
    with_error(item.to_token_stream(), error)
}
