use taskflow::prelude::*;

// A value forwarded through a `macro_rules!` fragment is checked like one written in place,
// and the error points at the value where the macro is called.
macro_rules! task_with_rule {
    ($name:ident, $rule:literal) => {
        #[task(trigger_rule = $rule)]
        fn $name() {}
    };
}

task_with_rule!(joined, "sometimes");

fn main() {}
