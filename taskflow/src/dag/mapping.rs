//! Dynamic task mapping as wired: the sources a mapped call maps over ([`each`], zipped,
//! or argument sets), and the spec of a mapped task that the executor expands at run time.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::xcom::{Arg, Value, Xcom};

/// A mapped argument of a task's `expand` call: the task runs once per element, and this
/// parameter gets the element (Airflow's `.expand(param=...)`). Make one with [`each`].
///
/// ```
/// use taskflow::prelude::*;
///
/// #[task]
/// fn files() -> Vec<String> {
///     vec!["a.csv".into(), "b.csv".into()]
/// }
///
/// #[task]
/// fn parse(file: String, region: &str) -> String {
///     format!("{file}@{region}")
/// }
///
/// let report = Dag::build("mapped", || {
///     parse::expand(each(files()), "eu");
/// })?
/// .test()?;
/// assert_eq!(report.xcom::<Vec<String>>("parse")?, ["a.csv@eu", "b.csv@eu"]);
/// # Ok::<(), taskflow::Error>(())
/// ```
#[must_use = "an `each` does nothing until it is an argument of an `expand` call"]
pub struct Each<T> {
    pub(crate) source: Box<Source>,
    _item: PhantomData<fn() -> T>,
}

/// What a mapped argument reads and how it splits the values into elements.
#[doc(hidden)]
pub struct Source {
    /// The handles and literals it reads, in order.
    pub(crate) args: Vec<Arg>,
    /// Values per element: 1, or one per parameter for argument sets (`expand_kwargs`).
    pub(crate) width: u32,
    /// The elements of the values read, `width` values each, in order.
    pub(crate) elements: ElementsFn,
    /// Per argument read: how long a value of it is, for `max_map_length` (a handle's;
    /// `None` for one nobody checks).
    pub(crate) lengths: Vec<Option<LengthFn>>,
}

/// Splits the values a source read into its elements, or says why it cannot.
pub(crate) type ElementsFn = Arc<dyn Fn(Vec<Value>) -> Result<Vec<Value>, String> + Send + Sync>;

/// The number of elements of a value a source maps over; `None` if it has another type.
pub(crate) type LengthFn = fn(&Value) -> Option<usize>;

/// What can be mapped over: a handle to a list or an ordered map, or a literal one. Its
/// elements come in a fixed order, so map indexes mean the same in every run (a `HashMap`
/// has no such order and is not mappable).
pub trait Mappable {
    /// The type of one element.
    type Item;
    /// The mapped argument over the elements.
    fn into_each(self) -> Each<Self::Item>;
}

/// Maps over `source`: a task's `expand` call runs one instance per element.
///
/// `source` is an [`Xcom`] of a `Vec` (or of a `BTreeMap`, whose elements are its
/// `(key, value)` pairs in key order), a literal `Vec`, array or `BTreeMap`, or the result of
/// another `each` (to [`zip`](Each::zip) it).
///
/// ```
/// use std::collections::BTreeMap;
/// use taskflow::prelude::*;
///
/// #[task]
/// fn prices() -> BTreeMap<String, u32> {
///     BTreeMap::from([("tea".to_owned(), 3), ("cake".to_owned(), 5)])
/// }
///
/// #[task]
/// fn label(item: (String, u32)) -> String {
///     format!("{}: {}", item.0, item.1)
/// }
///
/// #[task]
/// fn pair(both: (u32, char)) -> String {
///     format!("{}{}", both.0, both.1)
/// }
///
/// let report = Dag::build("sources", || {
///     label::expand(each(prices())); // (key, value) pairs in key order
///     pair::expand(each(vec![1, 2, 3]).zip(['a', 'b'])); // as far as the shorter goes
/// })?
/// .test()?;
/// assert_eq!(report.xcom::<Vec<String>>("label")?, ["cake: 5", "tea: 3"]);
/// assert_eq!(report.xcom::<Vec<String>>("pair")?, ["1a", "2b"]);
/// # Ok::<(), taskflow::Error>(())
/// ```
pub fn each<M: Mappable>(source: M) -> Each<M::Item> {
    source.into_each()
}

impl<T> Each<T> {
    fn new(source: Source) -> Self {
        Self {
            source: Box::new(source),
            _item: PhantomData,
        }
    }

    /// Maps over pairs of this source's and `other`'s elements, as far as the shorter one
    /// goes (Airflow's `.zip()`).
    pub fn zip<M: Mappable>(self, other: M) -> Each<(T, M::Item)>
    where
        T: Clone + Send + Sync + 'static,
        M::Item: Clone + Send + Sync + 'static,
    {
        zip_with(self, other.into_each(), |a, b| {
            let pairs = a.len().min(b.len());
            a.into_iter()
                .zip(b)
                .take(pairs)
                .map(|(a, b)| Some(Value::new((owned::<T>(a)?, owned::<M::Item>(b)?))))
                .collect()
        })
    }

    /// Maps over pairs of this source's and `other`'s elements as far as the longer one
    /// goes, the shorter one giving `None` past its end (Airflow's `.zip(fillvalue=None)`).
    pub fn zip_longest<M: Mappable>(self, other: M) -> Each<(Option<T>, Option<M::Item>)>
    where
        T: Clone + Send + Sync + 'static,
        M::Item: Clone + Send + Sync + 'static,
    {
        zip_with(self, other.into_each(), |a, b| {
            let pairs = a.len().max(b.len());
            let (mut a, mut b) = (a.into_iter(), b.into_iter());
            (0..pairs)
                .map(|_| {
                    let left = match a.next() {
                        Some(value) => Some(owned::<T>(value)?),
                        None => None,
                    };
                    let right = match b.next() {
                        Some(value) => Some(owned::<M::Item>(value)?),
                        None => None,
                    };
                    Some(Value::new((left, right)))
                })
                .collect()
        })
    }

    /// Like [`zip_longest`](Each::zip_longest), with `fill` standing in for the elements
    /// past the end of the shorter source (Airflow's `.zip(fillvalue=...)`).
    pub fn zip_fill<M: Mappable>(self, other: M, fill: (T, M::Item)) -> Each<(T, M::Item)>
    where
        T: Clone + Send + Sync + 'static,
        M::Item: Clone + Send + Sync + 'static,
    {
        let longest = self.zip_longest(other);
        let mut source = *longest.source;
        let pairs = source.elements;
        source.elements = Arc::new(move |values| {
            pairs(values)?
                .into_iter()
                .map(|pair| {
                    let (left, right) = owned::<(Option<T>, Option<M::Item>)>(pair)
                        .ok_or_else(|| "a zipped element has another type".to_owned())?;
                    let left = left.unwrap_or_else(|| fill.0.clone());
                    let right = right.unwrap_or_else(|| fill.1.clone());
                    Ok(Value::new((left, right)))
                })
                .collect()
        });
        Each::new(source)
    }
}

/// The element of a source as an owned `T`: moved out if nobody else holds it, else cloned.
fn owned<T: Clone + Send + Sync + 'static>(value: Value) -> Option<T> {
    match value.take::<T>() {
        Ok(value) => Some(value),
        Err(shared) => shared.downcast_ref::<T>().cloned(),
    }
}

/// Two sources as one, pairing their elements with `pair`.
fn zip_with<A, B, C>(
    a: Each<A>,
    b: Each<B>,
    pair: fn(Vec<Value>, Vec<Value>) -> Option<Vec<Value>>,
) -> Each<C> {
    let (a, b) = (*a.source, *b.source);
    let split = a.args.len();
    let (a_elements, b_elements) = (a.elements, b.elements);
    let mut args = a.args;
    args.extend(b.args);
    let mut lengths = a.lengths;
    lengths.extend(b.lengths);
    Each::new(Source {
        args,
        width: 1,
        elements: Arc::new(move |mut values| {
            let right = values.split_off(split);
            let (left, right) = (a_elements(values)?, b_elements(right)?);
            pair(left, right).ok_or_else(|| "a zipped element has another type".to_owned())
        }),
        lengths,
    })
}

/// The elements of a `Vec<T>` value.
fn vec_elements<T: Clone + Send + Sync + 'static>(value: Value) -> Option<Vec<Value>> {
    match value.take::<Vec<T>>() {
        Ok(list) => Some(list.into_iter().map(Value::new).collect()),
        Err(shared) => Some(
            shared
                .downcast_ref::<Vec<T>>()?
                .iter()
                .cloned()
                .map(Value::new)
                .collect(),
        ),
    }
}

/// The `(key, value)` elements of a `BTreeMap<K, V>` value, in key order.
fn map_elements<K, V>(value: Value) -> Option<Vec<Value>>
where
    K: Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    match value.take::<BTreeMap<K, V>>() {
        Ok(map) => Some(map.into_iter().map(Value::new).collect()),
        Err(shared) => Some(
            shared
                .downcast_ref::<BTreeMap<K, V>>()?
                .iter()
                .map(|(k, v)| Value::new((k.clone(), v.clone())))
                .collect(),
        ),
    }
}

fn vec_length<T: 'static>(value: &Value) -> Option<usize> {
    value.downcast_ref::<Vec<T>>().map(Vec::len)
}

fn map_length<K: 'static, V: 'static>(value: &Value) -> Option<usize> {
    value.downcast_ref::<BTreeMap<K, V>>().map(BTreeMap::len)
}

/// A source over the one value `arg`, split by `split`.
fn single<T>(
    arg: Arg,
    split: fn(Value) -> Option<Vec<Value>>,
    length: LengthFn,
    type_name: &'static str,
) -> Each<T> {
    let checked = matches!(arg, Arg::Upstream(..));
    Each::new(Source {
        args: vec![arg],
        width: 1,
        elements: Arc::new(move |mut values| {
            let value = values
                .pop()
                .ok_or_else(|| "no value to map over".to_owned())?;
            split(value).ok_or_else(|| format!("the value to map over is not a `{type_name}`"))
        }),
        lengths: vec![checked.then_some(length)],
    })
}

impl<T: Clone + Send + Sync + 'static> Mappable for Xcom<Vec<T>> {
    type Item = T;
    fn into_each(self) -> Each<T> {
        single(
            Arg::Upstream(self.task, self.part),
            vec_elements::<T>,
            vec_length::<T>,
            std::any::type_name::<Vec<T>>(),
        )
    }
}

impl<T: Clone + Send + Sync + 'static> Mappable for Vec<T> {
    type Item = T;
    fn into_each(self) -> Each<T> {
        single(
            Arg::Literal(Value::new(self)),
            vec_elements::<T>,
            vec_length::<T>,
            std::any::type_name::<Vec<T>>(),
        )
    }
}

impl<T: Clone + Send + Sync + 'static, const N: usize> Mappable for [T; N] {
    type Item = T;
    fn into_each(self) -> Each<T> {
        Vec::from(self).into_each()
    }
}

impl<K, V> Mappable for Xcom<BTreeMap<K, V>>
where
    K: Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    type Item = (K, V);
    fn into_each(self) -> Each<(K, V)> {
        single(
            Arg::Upstream(self.task, self.part),
            map_elements::<K, V>,
            map_length::<K, V>,
            std::any::type_name::<BTreeMap<K, V>>(),
        )
    }
}

impl<K, V> Mappable for BTreeMap<K, V>
where
    K: Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    type Item = (K, V);
    fn into_each(self) -> Each<(K, V)> {
        single(
            Arg::Literal(Value::new(self)),
            map_elements::<K, V>,
            map_length::<K, V>,
            std::any::type_name::<BTreeMap<K, V>>(),
        )
    }
}

impl<T> Mappable for Each<T> {
    type Item = T;
    fn into_each(self) -> Each<T> {
        self
    }
}

/// A mapped argument is an argument of the parameter its elements are for.
impl<T> crate::IntoArg<T> for Each<T> {
    fn into_arg(self) -> Arg {
        Arg::Mapped(self.source)
    }
}

impl<T> std::fmt::Debug for Each<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Each")
            .field("item", &std::any::type_name::<T>())
            .finish()
    }
}

/// Argument sets for `expand_kwargs`: each element of `source` converts into the tuple of
/// the task's parameters, which `split` takes apart. Called by `#[task]` code.
pub(crate) fn argument_sets<I: Send + Sync + Clone + 'static>(
    source: Each<I>,
    width: u32,
    split: fn(I) -> Vec<Value>,
) -> Arg {
    let mut source = *source.source;
    let elements = source.elements;
    source.width = width;
    source.elements = Arc::new(move |values| {
        let mut flat = Vec::new();
        for element in elements(values)? {
            let element =
                owned::<I>(element).ok_or_else(|| "an argument set has another type".to_owned())?;
            flat.extend(split(element));
        }
        Ok(flat)
    });
    Arg::Mapped(Box::new(source))
}

/// Where one parameter of a mapped task's instances gets its value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ParamFrom {
    /// The same for every instance: input `index` of the node (Airflow's `partial`).
    Fixed(u32),
    /// Part `part` of the element of source `source`.
    Mapped { source: u32, part: u32 },
}

/// How a mapped task's node expands at run time.
#[derive(Clone)]
pub(crate) struct MapSpec {
    /// Per parameter of the task, in order.
    pub(crate) params: Vec<ParamFrom>,
    /// The sources, in the order of the parameters they feed; the first varies slowest.
    pub(crate) sources: Vec<SourceSpec>,
    /// Makes the collected value (`Vec<R>`) of the instances' values, in map-index order.
    pub(crate) collect: CollectFn,
    /// Whether the values can be cloned (else the instances' values move into the
    /// collected one, even in a run that keeps values).
    pub(crate) clonable: bool,
    /// The type of the collected value, for messages.
    pub(crate) output_type: &'static str,
    /// The JSON codec of the collected value.
    pub(crate) codec: crate::codec::Codec,
    /// For a mapped task group: the group's tasks, copied once per map index.
    pub(crate) template: Option<Arc<super::template::Template>>,
}

/// One mapped source of a mapped task.
#[derive(Clone)]
pub(crate) struct SourceSpec {
    /// The node's inputs it reads: `first..first + count` (offsets into the node's inputs).
    pub(crate) first: u32,
    pub(crate) count: u32,
    pub(crate) width: u32,
    pub(crate) elements: ElementsFn,
    pub(crate) lengths: Vec<Option<LengthFn>>,
}

impl super::builder::Builder {
    /// Adds a mapped task call: a node that reads its mapped sources and fixed arguments,
    /// and expands into instances at run time.
    pub(crate) fn add_mapped_node(
        &mut self,
        body: &'static dyn crate::task::body::TaskBody,
        options: Option<Box<crate::TaskOptions>>,
        args: Vec<Arg>,
        collected: Collected,
    ) -> crate::xcom::TaskRef {
        let mut flat = Vec::with_capacity(args.len());
        let mut params = Vec::with_capacity(args.len());
        let mut sources = Vec::new();
        for arg in args {
            match arg {
                Arg::Mapped(source) => {
                    let Source {
                        args,
                        width,
                        elements,
                        lengths,
                    } = *source;
                    let index = sources.len() as u32;
                    params.extend((0..width).map(|part| ParamFrom::Mapped {
                        source: index,
                        part,
                    }));
                    sources.push(SourceSpec {
                        first: flat.len() as u32,
                        count: args.len() as u32,
                        width,
                        elements,
                        lengths,
                    });
                    flat.extend(args);
                }
                fixed => {
                    params.push(ParamFrom::Fixed(flat.len() as u32));
                    flat.push(fixed);
                }
            }
        }
        let mapped_sources = !sources.is_empty();
        let task = self.add_node(
            body,
            options,
            flat.into_iter()
                .map(|arg| (arg, crate::xcom::ReadMode::Borrowed)),
        );
        let refusal = if !mapped_sources {
            Some("`expand` needs at least one `each(...)` argument to map over".to_owned())
        } else if body.output_parts() > 0 {
            Some(
                "a `multiple_outputs` task cannot be mapped: map a task that returns the tuple"
                    .to_owned(),
            )
        } else if matches!(
            body.kind(),
            crate::task::body::TaskKind::Branch(_)
                | crate::task::body::TaskKind::ShortCircuit { .. }
        ) {
            Some("a branch or short-circuit task cannot be mapped".to_owned())
        } else {
            None
        };
        if let Some(reason) = refusal {
            let node = &self.nodes[task.node as usize];
            self.errors.push(crate::Error::Mapping {
                dag_id: self.dag_id.clone(),
                task_id: super::ids::id_text(&node.id, body.name()).into_owned(),
                reason,
            });
        }
        self.mappings.push((
            task.node,
            MapSpec {
                params,
                sources,
                collect: collected.collect,
                clonable: collected.clonable,
                output_type: collected.output_type,
                codec: collected.codec,
                template: None,
            },
        ));
        task
    }
}

/// How a mapped task's instances' values are collected: made by `#[task]` code for its
/// return type `R`.
#[doc(hidden)]
pub struct Collected {
    pub(crate) collect: CollectFn,
    pub(crate) clonable: bool,
    pub(crate) output_type: &'static str,
    pub(crate) codec: crate::codec::Codec,
}

/// Makes the collected value of the instances' values, in order; `None` if one has another
/// type, or is shared and cannot be cloned.
pub(crate) type CollectFn = Arc<dyn Fn(Vec<Value>) -> Option<Value> + Send + Sync>;

impl Collected {
    /// The collection of `R` values into a `Vec<R>` (cloned with `clone` when shared), with
    /// the codec of `Vec<R>`.
    pub(crate) fn of<R: Send + Sync + 'static>(
        codec: crate::codec::Codec,
        clone: Option<fn(&R) -> R>,
    ) -> Self {
        Self {
            collect: Arc::new(move |values| {
                let mut collected = Vec::with_capacity(values.len());
                for value in values {
                    collected.push(match value.take::<R>() {
                        Ok(value) => value,
                        Err(shared) => clone?(shared.downcast_ref::<R>()?),
                    });
                }
                Some(Value::new(collected))
            }),
            clonable: clone.is_some(),
            output_type: std::any::type_name::<Vec<R>>(),
            codec,
        }
    }
}

/// Adds a mapped task call to the DAG being built on this thread. Called by `#[task]` code.
pub(crate) fn add_mapped_task<R>(
    body: &'static dyn crate::task::body::TaskBody,
    options: Option<Box<crate::TaskOptions>>,
    args: Vec<Arg>,
    collected: Collected,
) -> Xcom<Vec<R>> {
    super::builder::with_current(
        || format!("task `{}`", body.name()),
        |builder| Xcom::new(builder.add_mapped_node(body, options, args, collected)),
    )
}
