//! The guard on custom checks' SQL. A schema file can come from a pull request, so its
//! checks may only read table `data`: a `sql:` check is one SELECT (or WITH) query, a
//! `where:` check is one expression. DataFusion would otherwise run anything it plans:
//! `COPY ... TO '<data path>'` overwrote the data being validated and `CREATE EXTERNAL
//! TABLE ... LOCATION '/etc/passwd'` read any file.
//!
//! Three layers, each enough alone for the statements above: the text must parse as one
//! query or one expression ([`check_query`], [`check_where`], run when the schema is
//! loaded, before any data is read); the plan must pass DataFusion's [`SQLOptions`] with
//! DDL, DML and statements refused; and the plan may scan no table but `data` (no table
//! function such as `generate_series`, no recursive query: both could run unbounded).

use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::source_as_provider;
use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{DataFrame, SessionContext};
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

/// What a check that is not a read-only query over `data` is told.
pub const READ_ONLY: &str = "only read-only SELECT queries over 'data' are allowed";

/// Why a check's SQL did not run.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// The schema is at fault: a syntax error, or a statement other than a read-only
    /// query over `data`. The run stops (exit 2).
    Schema(String),
    /// The query is valid but cannot run on this data (a column it names is missing, a
    /// value does not convert): the check fails, beside every other finding.
    Data(String),
}

impl Refused {
    pub fn message(&self) -> &str {
        match self {
            Self::Schema(m) | Self::Data(m) => m,
        }
    }
}

fn is_query(s: &DFStatement) -> bool {
    matches!(s, DFStatement::Statement(s) if matches!(**s, Statement::Query(_)))
}

fn syntax(e: &impl std::fmt::Display) -> String {
    let msg = one_line(&e.to_string());
    let msg = msg
        .strip_prefix("SQL error: ")
        .unwrap_or(&msg)
        .strip_prefix("ParserError(\"")
        .map_or(msg.clone(), |m| m.trim_end_matches("\")").to_string());
    format!("SQL syntax error: {msg}")
}

/// A `sql:` check's text: exactly one SELECT or WITH query.
pub fn check_query(sql: &str) -> Result<(), String> {
    let statements = DFParser::parse_sql(sql).map_err(|e| syntax(&e))?;
    match statements.len() {
        0 => Err("the `sql` check holds no query".into()),
        1 if is_query(&statements[0]) => Ok(()),
        _ => Err(READ_ONLY.into()),
    }
}

/// A `where:` check's text: exactly one expression (no `;` or `)` closing the select
/// list it is placed in, and no second statement after it).
pub fn check_where(expr: &str) -> Result<(), String> {
    let dialect = GenericDialect {};
    let mut p = Parser::new(&dialect)
        .try_with_sql(expr)
        .map_err(|e| syntax(&e))?;
    p.parse_expr().map_err(|e| syntax(&e))?;
    let next = p.peek_token();
    if next.token != Token::EOF {
        return Err(format!(
            "a `where` check is one SQL expression, but `{}` follows it; {READ_ONLY}",
            next.token
        ));
    }
    Ok(())
}

/// Plan `sql` under the guard: one query, read-only, over `data` alone.
pub async fn plan(ctx: &SessionContext, sql: &str) -> Result<LogicalPlan, Refused> {
    let state = ctx.state();
    let dialect = state.config().options().sql_parser.dialect;
    let statement = state
        .sql_to_statement(sql, &dialect)
        .map_err(|e| Refused::Schema(syntax(&e)))?;
    if !is_query(&statement) {
        return Err(Refused::Schema(READ_ONLY.into()));
    }
    let plan = state
        .statement_to_plan(statement)
        .await
        .map_err(|e| Refused::Data(reason(&e)))?;
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(&plan)
        .map_err(|_| Refused::Schema(READ_ONLY.into()))?;
    // The tables `data` is made of: itself, or the scans of the view it is (a CSV read
    // as text, then typed). Compared by identity, not by name: an alias can be called
    // `data` too.
    let data = ctx
        .table_provider("data")
        .await
        .map_err(|e| Refused::Schema(one_line(&e.to_string())))?;
    let mut trusted: Vec<*const ()> = vec![Arc::as_ptr(&data) as *const ()];
    if let Some(view) = data.get_logical_plan() {
        view.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(t) = node
                && let Ok(p) = source_as_provider(&t.source)
            {
                trusted.push(Arc::as_ptr(&p) as *const ());
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .map_err(|e| Refused::Schema(one_line(&e.to_string())))?;
    }
    let mut foreign = false;
    plan.apply_with_subqueries(|node| {
        foreign |= match node {
            LogicalPlan::TableScan(t) => !matches!(
                source_as_provider(&t.source),
                Ok(p) if trusted.contains(&(Arc::as_ptr(&p) as *const ()))
            ),
            LogicalPlan::RecursiveQuery(_)
            | LogicalPlan::Extension(_)
            | LogicalPlan::Ddl(_)
            | LogicalPlan::Dml(_)
            | LogicalPlan::Copy(_)
            | LogicalPlan::Statement(_) => true,
            _ => false,
        };
        Ok(if foreign {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    })
    .map_err(|e| Refused::Schema(one_line(&e.to_string())))?;
    if foreign {
        return Err(Refused::Schema(READ_ONLY.into()));
    }
    Ok(plan)
}

/// Plan `sql` under the guard and make it a data frame, ready to collect or stream.
pub async fn query(ctx: &SessionContext, sql: &str) -> Result<DataFrame, Refused> {
    let plan = plan(ctx, sql).await?;
    ctx.execute_logical_plan(plan)
        .await
        .map_err(|e| Refused::Data(reason(&e)))
}

/// A DataFusion error as one short sentence: a missing column is named without the
/// list of every valid field (5,000 of them on a wide table).
pub fn reason(e: &DataFusionError) -> String {
    const LONGEST: usize = 300;
    let msg = match e.find_root() {
        DataFusionError::SchemaError(s, _) => match s.as_ref() {
            datafusion::common::SchemaError::FieldNotFound { field, .. } => {
                format!("column `{}` is not in the data", field.name)
            }
            other => one_line(&other.to_string()),
        },
        root => one_line(&root.to_string()),
    };
    if msg.chars().count() > LONGEST {
        let head: String = msg.chars().take(LONGEST).collect();
        format!("{head}...")
    } else {
        msg
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_query_passes_the_text_check() {
        assert_eq!(check_query("SELECT count(*) > 0 FROM data"), Ok(()));
        assert_eq!(
            check_query("WITH t AS (SELECT * FROM data) SELECT count(*) FROM t"),
            Ok(())
        );
        for bad in [
            "COPY (SELECT 1 AS a) TO '/tmp/x.csv' STORED AS CSV",
            "CREATE EXTERNAL TABLE p (a VARCHAR) STORED AS CSV LOCATION '/etc/passwd'",
            "SELECT 1; SELECT 2",
            "INSERT INTO data VALUES (1)",
            "DROP TABLE data",
            "SET datafusion.execution.batch_size = 1",
            "EXPLAIN SELECT 1",
        ] {
            assert_eq!(check_query(bad), Err(READ_ONLY.into()), "{bad}");
        }
        assert!(
            check_query("SELEC 1")
                .unwrap_err()
                .starts_with("SQL syntax error")
        );
    }

    #[test]
    fn a_where_check_is_one_expression() {
        assert_eq!(check_where("a > 0 AND b IS NULL"), Ok(()));
        assert!(check_where("a > 0; COPY (SELECT 1) TO '/tmp/x'").is_err());
        assert!(check_where("a > 0), false) AS x FROM data; SELECT (1").is_err());
    }
}
