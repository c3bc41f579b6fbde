//! The IAM pages: users (tags, groups, attached and inline policies, access keys), groups,
//! managed policies with their versions, roles with their trust policies, and OpenID Connect
//! providers. Every read and change is an IAM call as the signed-in principal (`Client::iam`);
//! a form is offered only when `Client::iam_allows` says the call would be authorized, and a
//! forged post meets the same authorization in the API.
//!
//! Changes without a document go through one handler (`act`) whose table (`ACTIONS`) names,
//! per action, the only form fields passed on as parameters. Changes carrying a policy
//! document go through `document`: when the API refuses the document, the answer is the
//! editor again with the API's message, the JSON error's line and column when the text does
//! not even parse, and the posted text kept.

use askama::Template;
use http::{request, Response, StatusCode};

use super::call::Refusal;
use super::page::{self, Form};
use super::tree::Node;
use super::{Ctx, Layout};
use crate::http::Body;

/// An IAM call's answer as a tree, or the API's refusal.
pub async fn call(ctx: &Ctx, action: &str, params: &[(&str, &str)]) -> Result<Node, Refusal> {
    ctx.client
        .iam(action, params)
        .await
        .ok()
        .map(|reply| Node::parse(&reply.body))
}

/// `action`'s answer as `f` reads it; on a refusal, nothing (the default), with the refusal
/// kept in `errors` for the page to say.
async fn read<T: Default>(
    ctx: &Ctx,
    action: &str,
    params: &[(&str, &str)],
    errors: &mut Vec<String>,
    f: impl FnOnce(&Node) -> T,
) -> T {
    match call(ctx, action, params).await {
        Ok(tree) => f(&tree),
        Err(refusal) => {
            errors.push(format!("{action}: {refusal}"));
            T::default()
        }
    }
}

/// A policy document as IAM returns it (URL-encoded), as text.
pub fn document_text(encoded: &str) -> String {
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8_lossy()
        .into_owned()
}

/// The actions of a page the principal may call, as `iam_allows` answers for `params`.
pub struct Allowed(Vec<&'static str>);

impl Allowed {
    pub async fn ask(ctx: &Ctx, actions: &[&'static str], params: &[(&str, &str)]) -> Allowed {
        let mut yes = Vec::new();
        for action in actions {
            if ctx.client.iam_allows(action, params).await {
                yes.push(*action);
            }
        }
        Allowed(yes)
    }

    pub fn has(&self, action: &str) -> bool {
        self.0.contains(&action)
    }
}

/// Where a change returns: a console page, never another site.
fn back_to(form: &Form, fallback: &str) -> String {
    let back = form.get("back");
    let local = back.starts_with('/') && !back.starts_with("//") && !back.contains('\\');
    match local {
        true => back.to_owned(),
        false => fallback.to_owned(),
    }
}

/// The changes `act` performs and the form fields each takes as its parameters.
const ACTIONS: &[(&str, &[&str])] = &[
    ("CreateUser", &["UserName"]),
    ("DeleteUser", &["UserName"]),
    (
        "TagUser",
        &["UserName", "Tags.member.1.Key", "Tags.member.1.Value"],
    ),
    ("UntagUser", &["UserName", "TagKeys.member.1"]),
    ("AddUserToGroup", &["UserName", "GroupName"]),
    ("RemoveUserFromGroup", &["UserName", "GroupName"]),
    ("AttachUserPolicy", &["UserName", "PolicyArn"]),
    ("DetachUserPolicy", &["UserName", "PolicyArn"]),
    ("DeleteUserPolicy", &["UserName", "PolicyName"]),
    ("UpdateAccessKey", &["UserName", "AccessKeyId", "Status"]),
    ("DeleteAccessKey", &["UserName", "AccessKeyId"]),
    ("CreateGroup", &["GroupName"]),
    ("DeleteGroup", &["GroupName"]),
    ("AttachGroupPolicy", &["GroupName", "PolicyArn"]),
    ("DetachGroupPolicy", &["GroupName", "PolicyArn"]),
    ("DeleteGroupPolicy", &["GroupName", "PolicyName"]),
    ("SetDefaultPolicyVersion", &["PolicyArn", "VersionId"]),
    ("DeletePolicyVersion", &["PolicyArn", "VersionId"]),
    ("DeletePolicy", &["PolicyArn"]),
    ("DeleteRole", &["RoleName"]),
    ("UpdateRole", &["RoleName", "MaxSessionDuration"]),
    ("AttachRolePolicy", &["RoleName", "PolicyArn"]),
    ("DetachRolePolicy", &["RoleName", "PolicyArn"]),
    ("DeleteRolePolicy", &["RoleName", "PolicyName"]),
    ("CreateOpenIDConnectProvider", &["Url"]),
    ("DeleteOpenIDConnectProvider", &["OpenIDConnectProviderArn"]),
];

/// A list field (one value a line or comma) as `Name.member.N` parameters.
fn list_params(name: &str, text: &str) -> Vec<(String, String)> {
    text.split([',', '\n', '\r'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .enumerate()
        .map(|(i, v)| (format!("{name}.member.{}", i + 1), v.to_owned()))
        .collect()
}

/// POST `/iam/do`: one change from `ACTIONS`, then back to the page, with the API's answer.
pub async fn act(ctx: &Ctx, form: &Form) -> Response<Body> {
    let action = form.get("action");
    let Some((action, fields)) = ACTIONS.iter().find(|(name, _)| *name == action) else {
        return page::plain(StatusCode::BAD_REQUEST, "No such IAM change.");
    };
    let mut params: Vec<(String, String)> = fields
        .iter()
        .filter(|f| form.0.contains_key(**f))
        .map(|f| ((*f).to_owned(), form.get(f).trim().to_owned()))
        .collect();
    if *action == "CreateOpenIDConnectProvider" {
        params.extend(list_params("ClientIDList", form.get("ClientIDList")));
        params.extend(list_params("ThumbprintList", form.get("ThumbprintList")));
    }
    let borrowed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let target = params
        .iter()
        .find(|(k, _)| !k.contains('.'))
        .map_or("", |(_, v)| v.as_str());
    let reply = ctx.client.iam(action, &borrowed).await;
    match reply.refusal() {
        None => {
            ctx.session
                .set_flash(true, format!("{action} {target}: done."));
            let next = match *action {
                "CreateUser" => format!("/iam/user?name={}", page::encode(target)),
                "CreateGroup" => format!("/iam/group?name={}", page::encode(target)),
                "DeleteUser" => "/iam/users".to_owned(),
                "DeleteGroup" => "/iam/groups".to_owned(),
                "DeleteRole" => "/iam/roles".to_owned(),
                "DeletePolicy" => "/iam/policies".to_owned(),
                _ => back_to(form, "/iam/users"),
            };
            page::see_other(&next)
        }
        Some(refusal) => {
            ctx.session
                .set_flash(false, format!("{action} {target} was refused: {refusal}"));
            page::see_other(&back_to(form, "/iam/users"))
        }
    }
}

/// The changes that carry a document: (action, other fields, the document's parameter).
const DOCUMENT_ACTIONS: &[(&str, &[&str], &str)] = &[
    (
        "PutUserPolicy",
        &["UserName", "PolicyName"],
        "PolicyDocument",
    ),
    (
        "PutGroupPolicy",
        &["GroupName", "PolicyName"],
        "PolicyDocument",
    ),
    (
        "PutRolePolicy",
        &["RoleName", "PolicyName"],
        "PolicyDocument",
    ),
    ("UpdateAssumeRolePolicy", &["RoleName"], "PolicyDocument"),
    (
        "CreateRole",
        &["RoleName", "Description"],
        "AssumeRolePolicyDocument",
    ),
    (
        "CreatePolicy",
        &["PolicyName", "Description"],
        "PolicyDocument",
    ),
    (
        "CreatePolicyVersion",
        &["PolicyArn", "SetAsDefault"],
        "PolicyDocument",
    ),
];

/// Where a JSON text stops parsing, for people: line and column (both from 1).
pub fn json_error(text: &str) -> Option<(usize, usize, String)> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(_) => None,
        Err(e) => Some((e.line(), e.column(), e.to_string())),
    }
}

#[derive(Template)]
#[template(path = "console/iam_editor.html")]
struct EditorPage {
    principal: Option<String>,
    csrf: String,
    flash: Option<super::session::Flash>,
    section: &'static str,
    action: String,
    fields: Vec<(String, String)>,
    back: String,
    document: String,
    refusal: String,
    /// Line, column and serde_json's message, when the text is not JSON at all.
    position: Option<(usize, usize, String)>,
    /// The line the error is on, to quote.
    quoted: String,
}

/// POST `/iam/document`: a change with a policy document.
pub async fn document(ctx: &Ctx, form: &Form) -> Response<Body> {
    let action = form.get("action");
    let Some((action, fields, doc_param)) =
        DOCUMENT_ACTIONS.iter().find(|(name, _, _)| *name == action)
    else {
        return page::plain(StatusCode::BAD_REQUEST, "No such IAM change.");
    };
    let text = form.get("document");
    let kept: Vec<(String, String)> = fields
        .iter()
        .filter(|f| form.0.contains_key(**f) && !form.get(f).is_empty())
        .map(|f| ((*f).to_owned(), form.get(f).trim().to_owned()))
        .collect();
    let mut params: Vec<(&str, &str)> =
        kept.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    params.push((doc_param, text));
    let target = kept.first().map_or("", |(_, v)| v.as_str());
    let back = back_to(form, "/iam/users");
    match call(ctx, action, &params).await {
        Ok(answer) => {
            ctx.session
                .set_flash(true, format!("{action} {target}: done."));
            let next = match *action {
                "CreateRole" => format!("/iam/role?name={}", page::encode(target)),
                "CreatePolicy" => {
                    format!("/iam/policy?arn={}", page::encode(answer.text_of("Arn")))
                }
                _ => back,
            };
            page::see_other(&next)
        }
        Err(refusal) => {
            let position = json_error(text);
            let quoted = position
                .as_ref()
                .and_then(|(line, _, _)| text.lines().nth(line.saturating_sub(1)))
                .unwrap_or_default()
                .to_owned();
            let Layout {
                principal,
                csrf,
                flash,
                ..
            } = ctx.layout("iam");
            page::render(
                StatusCode::BAD_REQUEST,
                &EditorPage {
                    principal,
                    csrf,
                    flash,
                    section: "iam",
                    action: (*action).to_owned(),
                    fields: kept,
                    back,
                    document: text.to_owned(),
                    refusal: refusal.to_string(),
                    position,
                    quoted,
                },
            )
        }
    }
}

/// One attached managed policy.
pub struct Attached {
    pub name: String,
    pub arn: String,
}

/// One inline policy and its document.
pub struct Inline {
    pub name: String,
    pub document: String,
}

/// The policies section a user, group and role page share (`iam_policies_part.html`).
pub struct PolicyPart {
    /// `UserName`, `GroupName` or `RoleName`.
    pub param: &'static str,
    pub entity: String,
    /// `User`, `Group` or `Role`: the actions are `Attach{kind}Policy` and so on.
    pub kind: &'static str,
    pub attached: Vec<Attached>,
    pub inline: Vec<Inline>,
    /// Which of `attach`, `detach`, `put` and `delete` the principal may do.
    pub can: Allowed,
    /// Managed policy ARNs to suggest when attaching.
    pub suggestions: Vec<String>,
    pub back: String,
    pub errors: Vec<String>,
}

impl PolicyPart {
    pub async fn load(
        ctx: &Ctx,
        kind: &'static str,
        param: &'static str,
        entity: &str,
        back: String,
    ) -> PolicyPart {
        let params = [(param, entity)];
        let mut errors = Vec::new();
        let attached = match call(ctx, &format!("ListAttached{kind}Policies"), &params).await {
            Ok(tree) => tree
                .members("AttachedPolicies")
                .iter()
                .map(|m| Attached {
                    name: m.text_of("PolicyName").to_owned(),
                    arn: m.text_of("PolicyArn").to_owned(),
                })
                .collect(),
            Err(refusal) => {
                errors.push(format!("Attached policies: {refusal}"));
                Vec::new()
            }
        };
        let mut inline = Vec::new();
        match call(ctx, &format!("List{kind}Policies"), &params).await {
            Ok(tree) => {
                for name in tree.member_texts("PolicyNames") {
                    let got = call(
                        ctx,
                        &format!("Get{kind}Policy"),
                        &[(param, entity), ("PolicyName", &name)],
                    )
                    .await;
                    match got {
                        Ok(tree) => inline.push(Inline {
                            document: document_text(tree.text_of("PolicyDocument")),
                            name,
                        }),
                        Err(refusal) => errors.push(format!("Inline policy {name}: {refusal}")),
                    }
                }
            }
            Err(refusal) => errors.push(format!("Inline policies: {refusal}")),
        }
        let sample = [
            (param, entity),
            ("PolicyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        ];
        let named = [(param, entity), ("PolicyName", "policy")];
        let mut can = Vec::new();
        for (short, action, params) in [
            ("attach", format!("Attach{kind}Policy"), &sample),
            ("detach", format!("Detach{kind}Policy"), &sample),
            ("put", format!("Put{kind}Policy"), &named),
            ("delete", format!("Delete{kind}Policy"), &named),
        ] {
            if ctx.client.iam_allows(&action, params).await {
                can.push(short);
            }
        }
        let can = Allowed(can);
        let suggestions = match can.has("attach") {
            true => policy_arns(ctx).await,
            false => Vec::new(),
        };
        PolicyPart {
            param,
            entity: entity.to_owned(),
            kind,
            attached,
            inline,
            can,
            suggestions,
            back,
            errors,
        }
    }
}

/// The account's managed policy ARNs (the first page), for the attach form's suggestions.
async fn policy_arns(ctx: &Ctx) -> Vec<String> {
    match call(
        ctx,
        "ListPolicies",
        &[("Scope", "Local"), ("MaxItems", "200")],
    )
    .await
    {
        Ok(tree) => tree
            .members("Policies")
            .iter()
            .map(|m| m.text_of("Arn").to_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// A row of a list page: a name, its link and a few facts.
pub struct Row {
    pub name: String,
    pub link: String,
    pub arn: String,
    pub created: String,
}

fn rows(tree: &Node, list: &str, name: &str, link: &str) -> Vec<Row> {
    tree.members(list)
        .iter()
        .map(|m| {
            let value = m.text_of(name).to_owned();
            Row {
                link: format!("{link}{}", page::encode(&value)),
                name: value,
                arn: m.text_of("Arn").to_owned(),
                created: m
                    .text_of("CreateDate")
                    .get(..10)
                    .unwrap_or_default()
                    .to_owned(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "console/iam_list.html")]
struct ListPage {
    principal: Option<String>,
    csrf: String,
    flash: Option<super::session::Flash>,
    section: &'static str,
    /// `users`, `groups`, `roles`, `policies`.
    tab: &'static str,
    title: &'static str,
    rows: Vec<Row>,
    error: Option<String>,
    next: Option<String>,
    can_create: bool,
    /// AWS managed policies (the policies page only), read-only.
    aws: Vec<Row>,
}

fn marker_link(tree: &Node, path: &str) -> Option<String> {
    (tree.text_of("IsTruncated") == "true")
        .then(|| format!("{path}?marker={}", page::encode(tree.text_of("Marker"))))
}

/// What a list page lists and how it offers to create one more.
struct ListKind {
    tab: &'static str,
    action: &'static str,
    /// The element holding the members.
    list: &'static str,
    /// The member's name element.
    name: &'static str,
    link: &'static str,
    title: &'static str,
    create: &'static str,
    /// A stand-in for the name the principal will type, to ask whether creating is allowed.
    create_params: &'static [(&'static str, &'static str)],
}

const LIST_KINDS: [ListKind; 4] = [
    ListKind {
        tab: "users",
        action: "ListUsers",
        list: "Users",
        name: "UserName",
        link: "/iam/user?name=",
        title: "Users",
        create: "CreateUser",
        create_params: &[("UserName", "new-user")],
    },
    ListKind {
        tab: "groups",
        action: "ListGroups",
        list: "Groups",
        name: "GroupName",
        link: "/iam/group?name=",
        title: "Groups",
        create: "CreateGroup",
        create_params: &[("GroupName", "new-group")],
    },
    ListKind {
        tab: "roles",
        action: "ListRoles",
        list: "Roles",
        name: "RoleName",
        link: "/iam/role?name=",
        title: "Roles",
        create: "CreateRole",
        create_params: &[("RoleName", "new-role")],
    },
    ListKind {
        tab: "policies",
        action: "ListPolicies",
        list: "Policies",
        name: "PolicyName",
        link: "/iam/policy?arn=",
        title: "Managed policies",
        create: "CreatePolicy",
        create_params: &[("PolicyName", "new-policy")],
    },
];

/// GET `/iam/users`, `/iam/groups`, `/iam/roles`, `/iam/policies`.
pub async fn list(ctx: &Ctx, parts: &request::Parts, tab: &'static str) -> Response<Body> {
    let query = page::query(parts);
    let marker = query.get("marker").map_or("", String::as_str);
    let ListKind {
        action,
        list,
        name,
        link,
        title,
        create,
        create_params,
        ..
    } = LIST_KINDS
        .iter()
        .find(|k| k.tab == tab)
        .unwrap_or(&LIST_KINDS[0]);
    let mut params = vec![("MaxItems", "100")];
    if !marker.is_empty() {
        params.push(("Marker", marker));
    }
    if tab == "policies" {
        params.push(("Scope", "Local"));
    }
    let path = format!("/iam/{tab}");
    let (mut found, error, next) = match call(ctx, action, &params).await {
        Ok(tree) => (
            rows(&tree, list, name, link),
            None,
            marker_link(&tree, &path),
        ),
        Err(refusal) => (Vec::new(), Some(format!("{action}: {refusal}")), None),
    };
    if tab == "policies" {
        // A policy's page is found by its ARN, not its name.
        if let Ok(tree) = call(ctx, action, &params).await {
            for (row, member) in found.iter_mut().zip(tree.members(list)) {
                row.link = format!("{link}{}", page::encode(member.text_of("Arn")));
            }
        }
    }
    let aws = match tab {
        "policies" => match call(ctx, action, &[("Scope", "AWS"), ("MaxItems", "100")]).await {
            Ok(tree) => tree
                .members(list)
                .iter()
                .map(|m| Row {
                    name: m.text_of("PolicyName").to_owned(),
                    link: format!("{link}{}", page::encode(m.text_of("Arn"))),
                    arn: m.text_of("Arn").to_owned(),
                    created: String::new(),
                })
                .collect(),
            Err(_) => Vec::new(),
        },
        _ => Vec::new(),
    };
    let can_create = ctx.client.iam_allows(create, create_params).await;
    let Layout {
        principal,
        csrf,
        flash,
        section,
    } = ctx.layout("iam");
    page::render(
        StatusCode::OK,
        &ListPage {
            principal,
            csrf,
            flash,
            section,
            tab,
            title,
            rows: found,
            error,
            next,
            can_create,
            aws,
        },
    )
}

pub struct Key {
    pub id: String,
    pub status: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "console/iam_user.html")]
struct UserPage {
    principal: Option<String>,
    csrf: String,
    flash: Option<super::session::Flash>,
    section: &'static str,
    name: String,
    arn: String,
    created: String,
    error: Option<String>,
    tags: Vec<(String, String)>,
    groups: Vec<String>,
    all_groups: Vec<String>,
    keys: Vec<Key>,
    part: PolicyPart,
    can: Allowed,
    back: String,
    /// A key just created: its id and secret, shown on this one answer only.
    new_key: Option<(String, String)>,
}

/// GET `/iam/user?name=`.
pub async fn user(ctx: &Ctx, parts: &request::Parts) -> Response<Body> {
    let query = page::query(parts);
    let name = query.get("name").map_or("", String::as_str);
    user_page(ctx, name, None).await
}

async fn user_page(ctx: &Ctx, name: &str, new_key: Option<(String, String)>) -> Response<Body> {
    let params = [("UserName", name)];
    let mut errors = Vec::new();
    let (arn, created) = read(ctx, "GetUser", &params, &mut errors, |tree| {
        (
            tree.text_of("Arn").to_owned(),
            tree.text_of("CreateDate").to_owned(),
        )
    })
    .await;
    let tags = read(ctx, "ListUserTags", &params, &mut errors, |tree| {
        tree.members("Tags")
            .iter()
            .map(|m| (m.text_of("Key").to_owned(), m.text_of("Value").to_owned()))
            .collect()
    })
    .await;
    let groups: Vec<String> = read(ctx, "ListGroupsForUser", &params, &mut errors, |tree| {
        tree.members("Groups")
            .iter()
            .map(|m| m.text_of("GroupName").to_owned())
            .collect()
    })
    .await;
    let keys = read(ctx, "ListAccessKeys", &params, &mut errors, |tree| {
        tree.members("AccessKeyMetadata")
            .iter()
            .map(|m| Key {
                id: m.text_of("AccessKeyId").to_owned(),
                status: m.text_of("Status").to_owned(),
                created: m.text_of("CreateDate").to_owned(),
            })
            .collect()
    })
    .await;
    let back = format!("/iam/user?name={}", page::encode(name));
    let part = PolicyPart::load(ctx, "User", "UserName", name, back.clone()).await;
    let can = Allowed::ask(
        ctx,
        &[
            "TagUser",
            "UntagUser",
            "AddUserToGroup",
            "RemoveUserFromGroup",
            "CreateAccessKey",
            "UpdateAccessKey",
            "DeleteAccessKey",
            "DeleteUser",
        ],
        &[("UserName", name), ("GroupName", "group")],
    )
    .await;
    let all_groups = match can.has("AddUserToGroup") {
        true => match call(ctx, "ListGroups", &[("MaxItems", "1000")]).await {
            Ok(tree) => tree
                .members("Groups")
                .iter()
                .map(|m| m.text_of("GroupName").to_owned())
                .filter(|g| !groups.contains(g))
                .collect(),
            Err(_) => Vec::new(),
        },
        false => Vec::new(),
    };
    let Layout {
        principal,
        csrf,
        flash,
        section,
    } = ctx.layout("iam");
    let status = match arn.is_empty() {
        true => StatusCode::NOT_FOUND,
        false => StatusCode::OK,
    };
    page::render(
        status,
        &UserPage {
            principal,
            csrf,
            flash,
            section,
            name: name.to_owned(),
            arn,
            created,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
            tags,
            groups,
            all_groups,
            keys,
            part,
            can,
            back,
            new_key,
        },
    )
}

/// POST `/iam/user/keys`: CreateAccessKey. The answer is the user's page with the new secret:
/// it is in this one response only (never in the session, the flash or a later page).
pub async fn create_key(ctx: &Ctx, form: &Form) -> Response<Body> {
    let name = form.get("UserName");
    match call(ctx, "CreateAccessKey", &[("UserName", name)]).await {
        Ok(tree) => {
            let id = tree.text_of("AccessKeyId").to_owned();
            let secret = tree.text_of("SecretAccessKey").to_owned();
            user_page(ctx, name, Some((id, secret))).await
        }
        Err(refusal) => {
            ctx.session.set_flash(
                false,
                format!("CreateAccessKey {name} was refused: {refusal}"),
            );
            page::see_other(&format!("/iam/user?name={}", page::encode(name)))
        }
    }
}

#[derive(Template)]
#[template(path = "console/iam_group.html")]
struct GroupPage {
    principal: Option<String>,
    csrf: String,
    flash: Option<super::session::Flash>,
    section: &'static str,
    name: String,
    arn: String,
    error: Option<String>,
    members: Vec<String>,
    part: PolicyPart,
    can: Allowed,
    back: String,
}

/// GET `/iam/group?name=`: members, attached and inline policies.
pub async fn group(ctx: &Ctx, parts: &request::Parts) -> Response<Body> {
    let query = page::query(parts);
    let name = query.get("name").map_or("", String::as_str);
    let (arn, members, error) = match call(ctx, "GetGroup", &[("GroupName", name)]).await {
        Ok(tree) => (
            tree.find("Group")
                .map_or("", |g| g.text_of("Arn"))
                .to_owned(),
            tree.members("Users")
                .iter()
                .map(|m| m.text_of("UserName").to_owned())
                .collect(),
            None,
        ),
        Err(refusal) => (
            String::new(),
            Vec::new(),
            Some(format!("GetGroup: {refusal}")),
        ),
    };
    let back = format!("/iam/group?name={}", page::encode(name));
    let part = PolicyPart::load(ctx, "Group", "GroupName", name, back.clone()).await;
    let can = Allowed::ask(
        ctx,
        &["AddUserToGroup", "RemoveUserFromGroup", "DeleteGroup"],
        &[("GroupName", name), ("UserName", "user")],
    )
    .await;
    let Layout {
        principal,
        csrf,
        flash,
        section,
    } = ctx.layout("iam");
    page::render(
        StatusCode::OK,
        &GroupPage {
            principal,
            csrf,
            flash,
            section,
            name: name.to_owned(),
            arn,
            error,
            members,
            part,
            can,
            back,
        },
    )
}

#[derive(Template)]
#[template(path = "console/iam_role.html")]
struct RolePage {
    principal: Option<String>,
    csrf: String,
    flash: Option<super::session::Flash>,
    section: &'static str,
    name: String,
    arn: String,
    description: String,
    max_session: String,
    trust: String,
    error: Option<String>,
    part: PolicyPart,
    can: Allowed,
    back: String,
}

/// GET `/iam/role?name=`: trust policy, maximum session duration, policies.
pub async fn role(ctx: &Ctx, parts: &request::Parts) -> Response<Body> {
    let query = page::query(parts);
    let name = query.get("name").map_or("", String::as_str);
    let (arn, description, max_session, trust, error) =
        match call(ctx, "GetRole", &[("RoleName", name)]).await {
            Ok(tree) => (
                tree.text_of("Arn").to_owned(),
                tree.text_of("Description").to_owned(),
                tree.text_of("MaxSessionDuration").to_owned(),
                document_text(tree.text_of("AssumeRolePolicyDocument")),
                None,
            ),
            Err(refusal) => (
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                Some(format!("GetRole: {refusal}")),
            ),
        };
    let back = format!("/iam/role?name={}", page::encode(name));
    let part = PolicyPart::load(ctx, "Role", "RoleName", name, back.clone()).await;
    let can = Allowed::ask(
        ctx,
        &["UpdateAssumeRolePolicy", "UpdateRole", "DeleteRole"],
        &[("RoleName", name)],
    )
    .await;
    let Layout {
        principal,
        csrf,
        flash,
        section,
    } = ctx.layout("iam");
    page::render(
        StatusCode::OK,
        &RolePage {
            principal,
            csrf,
            flash,
            section,
            name: name.to_owned(),
            arn,
            description,
            max_session,
            trust,
            error,
            part,
            can,
            back,
        },
    )
}

pub struct Version {
    pub id: String,
    pub default: bool,
    pub created: String,
}

#[derive(Template)]
#[template(path = "console/iam_policy.html")]
struct PolicyPage {
    principal: Option<String>,
    csrf: String,
    flash: Option<super::session::Flash>,
    section: &'static str,
    arn: String,
    name: String,
    description: String,
    attachments: String,
    versions: Vec<Version>,
    shown: String,
    document: String,
    error: Option<String>,
    /// AWS managed policies are read-only.
    local: bool,
    can: Allowed,
    back: String,
}

/// GET `/iam/policy?arn=[&version=]`: a managed policy, its versions and one version's text.
pub async fn policy(ctx: &Ctx, parts: &request::Parts) -> Response<Body> {
    let query = page::query(parts);
    let arn = query.get("arn").map_or("", String::as_str);
    let mut errors = Vec::new();
    let (name, description, attachments, default) =
        match call(ctx, "GetPolicy", &[("PolicyArn", arn)]).await {
            Ok(tree) => (
                tree.text_of("PolicyName").to_owned(),
                tree.text_of("Description").to_owned(),
                tree.text_of("AttachmentCount").to_owned(),
                tree.text_of("DefaultVersionId").to_owned(),
            ),
            Err(refusal) => {
                errors.push(format!("GetPolicy: {refusal}"));
                Default::default()
            }
        };
    let versions = match call(ctx, "ListPolicyVersions", &[("PolicyArn", arn)]).await {
        Ok(tree) => tree
            .members("Versions")
            .iter()
            .map(|m| Version {
                id: m.text_of("VersionId").to_owned(),
                default: m.text_of("IsDefaultVersion") == "true",
                created: m.text_of("CreateDate").to_owned(),
            })
            .collect(),
        Err(refusal) => {
            errors.push(format!("ListPolicyVersions: {refusal}"));
            Vec::new()
        }
    };
    let shown = query.get("version").cloned().unwrap_or(default);
    let document = match shown.is_empty() {
        true => String::new(),
        false => match call(
            ctx,
            "GetPolicyVersion",
            &[("PolicyArn", arn), ("VersionId", &shown)],
        )
        .await
        {
            Ok(tree) => document_text(tree.text_of("Document")),
            Err(refusal) => {
                errors.push(format!("GetPolicyVersion: {refusal}"));
                String::new()
            }
        },
    };
    let local = !arn.starts_with("arn:aws:iam::aws:");
    let can = match local {
        true => {
            Allowed::ask(
                ctx,
                &[
                    "CreatePolicyVersion",
                    "SetDefaultPolicyVersion",
                    "DeletePolicyVersion",
                    "DeletePolicy",
                ],
                &[("PolicyArn", arn), ("VersionId", "v1")],
            )
            .await
        }
        false => Allowed(Vec::new()),
    };
    let Layout {
        principal,
        csrf,
        flash,
        section,
    } = ctx.layout("iam");
    page::render(
        StatusCode::OK,
        &PolicyPage {
            principal,
            csrf,
            flash,
            section,
            back: format!("/iam/policy?arn={}", page::encode(arn)),
            arn: arn.to_owned(),
            name,
            description,
            attachments,
            versions,
            shown,
            document,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
            local,
            can,
        },
    )
}

pub struct Provider {
    pub arn: String,
    pub url: String,
    pub clients: Vec<String>,
    pub thumbprints: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/iam_oidc.html")]
struct OidcPage {
    principal: Option<String>,
    csrf: String,
    flash: Option<super::session::Flash>,
    section: &'static str,
    providers: Vec<Provider>,
    error: Option<String>,
    can: Allowed,
}

/// GET `/iam/oidc`: the OpenID Connect providers.
pub async fn oidc(ctx: &Ctx) -> Response<Body> {
    let mut providers = Vec::new();
    let mut error = None;
    match call(ctx, "ListOpenIDConnectProviders", &[]).await {
        Ok(tree) => {
            for member in tree.members("OpenIDConnectProviderList") {
                let arn = member.text_of("Arn").to_owned();
                let got = call(
                    ctx,
                    "GetOpenIDConnectProvider",
                    &[("OpenIDConnectProviderArn", &arn)],
                )
                .await;
                let (url, clients, thumbprints) = match got {
                    Ok(t) => (
                        t.text_of("Url").to_owned(),
                        t.member_texts("ClientIDList"),
                        t.member_texts("ThumbprintList"),
                    ),
                    Err(refusal) => (refusal.to_string(), Vec::new(), Vec::new()),
                };
                providers.push(Provider {
                    arn,
                    url,
                    clients,
                    thumbprints,
                });
            }
        }
        Err(refusal) => error = Some(format!("ListOpenIDConnectProviders: {refusal}")),
    }
    let can = Allowed::ask(
        ctx,
        &["CreateOpenIDConnectProvider", "DeleteOpenIDConnectProvider"],
        &[(
            "OpenIDConnectProviderArn",
            "arn:aws:iam::000000000000:oidc-provider/example.com",
        )],
    )
    .await;
    let Layout {
        principal,
        csrf,
        flash,
        section,
    } = ctx.layout("iam");
    page::render(
        StatusCode::OK,
        &OidcPage {
            principal,
            csrf,
            flash,
            section,
            providers,
            error,
            can,
        },
    )
}
