//! The one fake [`Embed`] of every test (`features = ["test-support"]`): a book whose
//! directives all render as a line naming what they embed, or one with no demos at
//! all.

use crate::slides::Embed;

/// A test's stand-in for the book's demos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeEmbed {
    /// Every demo exists: `<figure class="demo">DEMO name</figure>`,
    /// `<figure>CHART demo m1,m2</figure>`, `<figure>LADDER demo connection</figure>`
    /// (`-` without one).
    Echo,
    /// The book has no demos: every directive is an error, "no demo `NAME`".
    Missing,
}

impl Embed for FakeEmbed {
    fn demo(&mut self, name: &str) -> Result<String, String> {
        match self {
            FakeEmbed::Echo => Ok(format!(
                "<figure class=\"{}\">DEMO {name}</figure>",
                contract::page::class::DEMO
            )),
            FakeEmbed::Missing => Err(format!("no demo `{name}`")),
        }
    }

    fn chart(&mut self, demo: &str, metrics: &[String]) -> Result<String, String> {
        match self {
            FakeEmbed::Echo => Ok(format!(
                "<figure>CHART {demo} {}</figure>",
                metrics.join(",")
            )),
            FakeEmbed::Missing => Err(format!("no demo `{demo}`")),
        }
    }

    fn ladder(&mut self, demo: &str, connection: Option<&str>) -> Result<String, String> {
        match self {
            FakeEmbed::Echo => Ok(format!(
                "<figure>LADDER {demo} {}</figure>",
                connection.unwrap_or("-")
            )),
            FakeEmbed::Missing => Err(format!(
                "`{{{{#ladder {demo}}}}}`: this book has no captured wires"
            )),
        }
    }
}
