//! A run's values as JSON and their sizes: [`RunReport::xcom_json`],
//! [`RunReport::xcom_json_at`] and [`RunReport::xcom_size`].

use crate::codec::Codec;
use crate::size::{parts_size, value_size};
use crate::xcom::Value;
use crate::{Error, Result, RunReport, ValueSize};

impl RunReport {
    /// The value a task returned, encoded to JSON; for a `multiple_outputs` task, the
    /// array of its parts (as its tuple encodes).
    ///
    /// An error, never a panic, if the task has no value to read (as for
    /// [`RunReport::xcom`]) or its value does not encode ([`Error::XcomNotEncodable`]: its
    /// type does not implement `serde::Serialize`, or its `Serialize` failed or panicked).
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn totals() -> std::collections::BTreeMap<String, f64> {
    ///     [("north".to_owned(), 12.5)].into()
    /// }
    ///
    /// struct Connection;
    ///
    /// #[task]
    /// fn connect() -> Connection {
    ///     Connection
    /// }
    ///
    /// let report = Dag::build("values", || {
    ///     totals();
    ///     connect();
    /// })
    /// .test()?;
    /// assert_eq!(report.xcom_json("totals")?, serde_json::json!({"north": 12.5}));
    /// let error = report.xcom_json("connect").unwrap_err();
    /// assert!(error.to_string().contains("does not implement serde::Serialize"));
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn xcom_json(&self, task_id: &str) -> Result<serde_json::Value> {
        let node = self.node(task_id)?;
        match self.run.dag.nodes[node as usize].body.output_parts() {
            0 => {
                let (_, value) = self.value_of(task_id, None)?;
                encode(task_id, &self.codec(node, None), &value)
            }
            parts => (0..parts)
                .map(|index| self.xcom_json_at(task_id, index))
                .collect::<Result<_>>()
                .map(serde_json::Value::Array),
        }
    }

    /// Part `index` of the tuple value of a `multiple_outputs` task, encoded to JSON; errors
    /// as for [`RunReport::xcom_json`].
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task(multiple_outputs)]
    /// fn split() -> (u32, String) {
    ///     (7, "rows".to_owned())
    /// }
    ///
    /// let report = Dag::build("parts", || {
    ///     split();
    /// })
    /// .test()?;
    /// assert_eq!(report.xcom_json_at("split", 1)?, "rows");
    /// assert_eq!(report.xcom_json("split")?, serde_json::json!([7, "rows"]));
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn xcom_json_at(&self, task_id: &str, index: u32) -> Result<serde_json::Value> {
        let (node, value) = self.value_of(task_id, Some(index))?;
        encode(task_id, &self.codec(node, Some(index)), &value)
    }

    /// How big a task's value is: the bytes of its compact JSON encoding where it encodes
    /// (counted as they are written, with no string made), else the shallow size of its
    /// type (`size_of`), as [`ValueSize::kind`] says. A `multiple_outputs` value counts as
    /// the JSON array of its parts if every part encodes, else as its tuple's shallow size.
    /// An error if the task has no value to read, as for [`RunReport::xcom`].
    ///
    /// ```
    /// use taskflow::prelude::*;
    /// use taskflow::SizeKind;
    ///
    /// struct Buffer([u8; 64]);
    ///
    /// #[task]
    /// fn name() -> String {
    ///     "north".to_owned()
    /// }
    ///
    /// #[task]
    /// fn buffer() -> Buffer {
    ///     Buffer([0; 64])
    /// }
    ///
    /// let report = Dag::build("sizes", || {
    ///     name();
    ///     buffer();
    /// })
    /// .test()?;
    /// let name = report.xcom_size("name")?;
    /// assert_eq!((name.bytes, name.kind), (7, SizeKind::Encoded)); // `"north"`
    /// let buffer = report.xcom_size("buffer")?;
    /// assert_eq!((buffer.bytes, buffer.kind), (64, SizeKind::Shallow));
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn xcom_size(&self, task_id: &str) -> Result<ValueSize> {
        let node = self.node(task_id)?;
        let body = self.run.dag.nodes[node as usize].body;
        match body.output_parts() {
            0 => Ok(value_size(body, &self.value_of(task_id, None)?.1)),
            parts => {
                let values = (0..parts)
                    .map(|index| self.value_of(task_id, Some(index)).map(|(_, value)| value))
                    .collect::<Result<Vec<Value>>>()?;
                Ok(parts_size(body, &values))
            }
        }
    }

    /// Checks that a task's value crosses a boundary intact, as it must to be stored or
    /// passed to another process: it encodes to JSON, decodes back into its type, and the
    /// decoded value encodes to the same JSON. Each part of a `multiple_outputs` value is
    /// checked on its own. Errors as for [`RunReport::xcom_json`], or
    /// [`Error::XcomNotDecodable`].
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn ratio() -> f64 {
    ///     0.25
    /// }
    ///
    /// #[task]
    /// fn broken() -> f64 {
    ///     f64::NAN // encodes as `null`, which is no f64
    /// }
    ///
    /// let report = Dag::build("crossing", || {
    ///     ratio();
    ///     broken();
    /// })
    /// .test()?;
    /// report.check_xcom_round_trip("ratio")?;
    /// assert!(report.check_xcom_round_trip("broken").is_err());
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn check_xcom_round_trip(&self, task_id: &str) -> Result<()> {
        let node = self.node(task_id)?;
        match self.run.dag.nodes[node as usize].body.output_parts() {
            0 => self.round_trip(task_id, node, None),
            parts => (0..parts).try_for_each(|index| self.round_trip(task_id, node, Some(index))),
        }
    }

    fn round_trip(&self, task_id: &str, node: u32, part: Option<u32>) -> Result<()> {
        let codec = self.codec(node, part);
        let (_, value) = self.value_of(task_id, part)?;
        let json = encode(task_id, &codec, &value)?;
        let not_decodable = |reason: String| Error::XcomNotDecodable {
            task_id: task_id.to_owned(),
            type_name: codec.type_name().to_owned(),
            reason,
        };
        let decoded = match codec.decode(json.clone()) {
            Some(Ok(decoded)) => decoded,
            Some(Err(reason)) => return Err(not_decodable(reason)),
            None => {
                return Err(not_decodable(
                    "its type does not implement serde::Deserialize".to_owned(),
                ));
            }
        };
        match encode(task_id, &codec, &decoded) {
            Ok(again) if again == json => Ok(()),
            Ok(again) => Err(not_decodable(format!(
                "{json} decodes to a value that encodes as {again}"
            ))),
            Err(error) => Err(not_decodable(format!("the decoded value fails: {error}"))),
        }
    }

    /// The codec of task `node`'s value, or of one part of it.
    pub(crate) fn codec(&self, node: u32, part: Option<u32>) -> Codec {
        match self.run.dag.mapping(node) {
            Some(spec) => spec.codec,
            None => self.run.dag.nodes[node as usize].body.codec(part),
        }
    }
}

/// `value` as JSON, or why it does not encode.
fn encode(task_id: &str, codec: &Codec, value: &Value) -> Result<serde_json::Value> {
    let not_encodable = |reason: String| Error::XcomNotEncodable {
        task_id: task_id.to_owned(),
        type_name: codec.type_name().to_owned(),
        reason,
    };
    match codec.encode(value) {
        Some(Ok(json)) => Ok(json),
        Some(Err(reason)) => Err(not_encodable(reason)),
        None => Err(not_encodable(
            "its type does not implement serde::Serialize".to_owned(),
        )),
    }
}
