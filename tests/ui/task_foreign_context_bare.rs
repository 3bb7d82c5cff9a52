// A `&Context` parameter is the injected `taskflow::Context`; another type imported as
// `Context` is named by its path to be an ordinary argument.
mod templates {
    pub struct Context;
}

use taskflow::task;
use templates::Context;

#[task]
fn render(template: &Context) {
    let _ = template;
}

fn main() {}
