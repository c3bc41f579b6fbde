//! The policy simulator: would a principal's policies (SimulatePrincipalPolicy), or pasted
//! documents (SimulateCustomPolicy), allow these actions on these resources? Each decision
//! is shown with the statements that decided it, marked in the documents by the line range
//! the IAM answer gives (`StartPosition`/`EndPosition`). The simulation is an IAM call as the
//! signed-in principal, so it needs iam:SimulatePrincipalPolicy or iam:SimulateCustomPolicy.

use askama::Template;
use http::{Response, StatusCode};

use super::iam::{call, document_text};
use super::page::Form;
use super::tree::Node;
use super::{page, Ctx, Layout};
use crate::http::Body;

/// A principal to pick: its label and ARN.
pub struct Principal {
    pub label: String,
    pub arn: String,
}

/// One decision, and what decided it.
pub struct Outcome {
    pub action: String,
    pub resource: String,
    pub decision: String,
    /// `policy id, lines a–b` for each matched statement.
    pub matched: Vec<String>,
}

/// One line of a source document; `marked` when a matched statement covers it.
pub struct Line {
    pub number: usize,
    pub text: String,
    pub marked: bool,
}

/// A source document as shown, by the id the answer names it with.
pub struct Document {
    pub id: String,
    pub lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "console/simulator.html")]
struct SimulatorPage {
    principal: Option<String>,
    csrf: String,
    flash: Option<super::session::Flash>,
    section: &'static str,
    principals: Vec<Principal>,
    source: String,
    custom: String,
    actions: String,
    resources: String,
    outcomes: Vec<Outcome>,
    documents: Vec<Document>,
    error: Option<String>,
    can_principal: bool,
    can_custom: bool,
}

async fn principals(ctx: &Ctx) -> Vec<Principal> {
    let mut found = Vec::new();
    for (action, list, kind) in [
        ("ListUsers", "Users", "user"),
        ("ListGroups", "Groups", "group"),
        ("ListRoles", "Roles", "role"),
    ] {
        if let Ok(tree) = call(ctx, action, &[("MaxItems", "1000")]).await {
            for m in tree.members(list) {
                let arn = m.text_of("Arn").to_owned();
                let name = arn.rsplit('/').next().unwrap_or_default().to_owned();
                found.push(Principal {
                    label: format!("{kind} {name}"),
                    arn,
                });
            }
        }
    }
    found
}

fn split(text: &str) -> Vec<&str> {
    text.split([',', '\n', '\r'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// GET `/simulator`.
pub async fn show(ctx: &Ctx) -> Response<Body> {
    render(ctx, &Form::default(), Vec::new(), Vec::new(), None).await
}

/// POST `/simulator`: runs the simulation and shows it.
pub async fn run(ctx: &Ctx, form: &Form) -> Response<Body> {
    let actions = split(form.get("actions"));
    let resources = split(form.get("resources"));
    let source = form.get("source").trim();
    let custom = form.get("custom");
    let pasted: Vec<String> = custom
        .split("\n---")
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .collect();
    let mut params: Vec<(String, String)> = Vec::new();
    for (i, a) in actions.iter().enumerate() {
        params.push((format!("ActionNames.member.{}", i + 1), (*a).to_owned()));
    }
    for (i, r) in resources.iter().enumerate() {
        params.push((format!("ResourceArns.member.{}", i + 1), (*r).to_owned()));
    }
    let mut documents: Vec<(String, String)> = Vec::new();
    let action = match pasted.is_empty() {
        false => {
            for (i, d) in pasted.iter().enumerate() {
                params.push((format!("PolicyInputList.member.{}", i + 1), d.clone()));
                documents.push((format!("PolicyInputList.{}", i + 1), d.clone()));
            }
            "SimulateCustomPolicy"
        }
        true => {
            params.push(("PolicySourceArn".to_owned(), source.to_owned()));
            documents = source_documents(ctx, source).await;
            "SimulatePrincipalPolicy"
        }
    };
    let borrowed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    match call(ctx, action, &borrowed).await {
        Ok(tree) => {
            let (outcomes, ranges) = outcomes(&tree);
            let shown = documents
                .into_iter()
                .map(|(id, text)| mark(&id, &text, &ranges))
                .collect();
            render(ctx, form, outcomes, shown, None).await
        }
        Err(refusal) => {
            render(
                ctx,
                form,
                Vec::new(),
                Vec::new(),
                Some(format!("{action}: {refusal}")),
            )
            .await
        }
    }
}

/// The results, and each matched statement's (policy id, first line, last line).
fn outcomes(tree: &Node) -> (Vec<Outcome>, Vec<(String, usize, usize)>) {
    let mut ranges = Vec::new();
    let outcomes = tree
        .members("EvaluationResults")
        .iter()
        .map(|result| {
            let matched = result
                .members("MatchedStatements")
                .iter()
                .map(|m| {
                    let id = m.text_of("SourcePolicyId").to_owned();
                    let line = |tag: &str| {
                        m.find(tag)
                            .and_then(|p| p.text_of("Line").parse::<usize>().ok())
                    };
                    match (line("StartPosition"), line("EndPosition")) {
                        (Some(start), Some(end)) => {
                            ranges.push((id.clone(), start, end));
                            format!("{id}, lines {start}–{end}")
                        }
                        _ => id,
                    }
                })
                .collect();
            Outcome {
                action: result.text_of("EvalActionName").to_owned(),
                resource: result.text_of("EvalResourceName").to_owned(),
                decision: result.text_of("EvalDecision").to_owned(),
                matched,
            }
        })
        .collect();
    (outcomes, ranges)
}

/// A document's lines, those of a matched statement marked (text escaped by the template).
fn mark(id: &str, text: &str, ranges: &[(String, usize, usize)]) -> Document {
    let lines = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let number = i + 1;
            Line {
                number,
                text: line.to_owned(),
                marked: ranges
                    .iter()
                    .any(|(r, start, end)| r == id && (*start..=*end).contains(&number)),
            }
        })
        .collect();
    Document {
        id: id.to_owned(),
        lines,
    }
}

/// The documents a user's or role's simulation reads, named as the answer names them: inline
/// policies and attached managed policies by name (and a user's groups' inline policies).
async fn source_documents(ctx: &Ctx, arn: &str) -> Vec<(String, String)> {
    let name = arn.rsplit('/').next().unwrap_or_default();
    let mut entities: Vec<(&str, &str, String)> = Vec::new();
    if arn.contains(":user/") {
        entities.push(("User", "UserName", name.to_owned()));
        if let Ok(tree) = call(ctx, "ListGroupsForUser", &[("UserName", name)]).await {
            for g in tree.members("Groups") {
                entities.push(("Group", "GroupName", g.text_of("GroupName").to_owned()));
            }
        }
    } else if arn.contains(":role/") {
        entities.push(("Role", "RoleName", name.to_owned()));
    } else if arn.contains(":group/") {
        entities.push(("Group", "GroupName", name.to_owned()));
    }
    let mut documents = Vec::new();
    for (kind, param, entity) in entities {
        let part = super::iam::PolicyPart::load(ctx, kind, param, &entity, String::new()).await;
        for inline in part.inline {
            documents.push((inline.name, inline.document));
        }
        for attached in part.attached {
            let Ok(policy) = call(ctx, "GetPolicy", &[("PolicyArn", &attached.arn)]).await else {
                continue;
            };
            let version = policy.text_of("DefaultVersionId");
            if let Ok(v) = call(
                ctx,
                "GetPolicyVersion",
                &[("PolicyArn", &attached.arn), ("VersionId", version)],
            )
            .await
            {
                documents.push((attached.name, document_text(v.text_of("Document"))));
            }
        }
    }
    documents
}

async fn render(
    ctx: &Ctx,
    form: &Form,
    outcomes: Vec<Outcome>,
    documents: Vec<Document>,
    error: Option<String>,
) -> Response<Body> {
    let can_principal = ctx
        .client
        .iam_allows(
            "SimulatePrincipalPolicy",
            &[("PolicySourceArn", "arn:aws:iam::000000000000:user/user")],
        )
        .await;
    let can_custom = ctx.client.iam_allows("SimulateCustomPolicy", &[]).await;
    let Layout {
        principal,
        csrf,
        flash,
        section,
    } = ctx.layout("simulator");
    page::render(
        StatusCode::OK,
        &SimulatorPage {
            principal,
            csrf,
            flash,
            section,
            principals: principals(ctx).await,
            source: form.get("source").to_owned(),
            custom: form.get("custom").to_owned(),
            actions: form.get("actions").to_owned(),
            resources: form.get("resources").to_owned(),
            outcomes,
            documents,
            error,
            can_principal,
            can_custom,
        },
    )
}
