//! Compile-fail UI tests of `#[task]` and `#[dag]`: each file in `ui/` must fail to build
//! with the error in its `.stderr` snapshot.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
