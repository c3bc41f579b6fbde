//! `<AccessControlPolicy>`: the answer of GetBucketAcl and GetObjectAcl, and the body of
//! PutBucketAcl and PutObjectAcl.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAcl.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html>

use serde::{Deserialize, Serialize};

use crate::objects::{Acl, Grantee};
use crate::s3::xml::{Owner, RequestDocument, Xmlns};

use super::{ALL_USERS, AUTHENTICATED_USERS};

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The response: the owner, and each grant with its grantee typed by `xsi:type`.
#[derive(Debug, Serialize)]
#[serde(rename = "AccessControlPolicy")]
pub struct AccessControlPolicy {
    #[serde(rename = "@xmlns")]
    xmlns: Xmlns,
    #[serde(rename = "Owner")]
    owner: Owner,
    #[serde(rename = "AccessControlList")]
    access_control_list: AccessControlList,
}

#[derive(Debug, Serialize)]
struct AccessControlList {
    #[serde(rename = "Grant")]
    grant: Vec<GrantOut>,
}

#[derive(Debug, Serialize)]
struct GrantOut {
    #[serde(rename = "Grantee")]
    grantee: GranteeOut,
    #[serde(rename = "Permission")]
    permission: &'static str,
}

#[derive(Debug, Serialize)]
struct GranteeOut {
    #[serde(rename = "@xmlns:xsi")]
    xmlns_xsi: &'static str,
    #[serde(rename = "@xsi:type")]
    xsi_type: &'static str,
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(rename = "DisplayName", skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(rename = "URI", skip_serializing_if = "Option::is_none")]
    uri: Option<&'static str>,
}

impl AccessControlPolicy {
    /// `acl` as S3 shows it; a canonical user is shown with the owner's display name (it is
    /// the owner: LabStore stores no other).
    pub fn of(owner: Owner, acl: &Acl) -> AccessControlPolicy {
        let grant = acl
            .grants
            .iter()
            .map(|g| {
                let grantee = match &g.grantee {
                    Grantee::CanonicalUser(id) => GranteeOut {
                        xmlns_xsi: XSI,
                        xsi_type: "CanonicalUser",
                        id: Some(id.clone()),
                        display_name: Some(owner.display_name.clone()),
                        uri: None,
                    },
                    Grantee::AllUsers | Grantee::AuthenticatedUsers => GranteeOut {
                        xmlns_xsi: XSI,
                        xsi_type: "Group",
                        id: None,
                        display_name: None,
                        uri: Some(match g.grantee {
                            Grantee::AllUsers => ALL_USERS,
                            _ => AUTHENTICATED_USERS,
                        }),
                    },
                };
                GrantOut {
                    grantee,
                    permission: g.permission.name(),
                }
            })
            .collect();
        AccessControlPolicy {
            xmlns: Xmlns::default(),
            owner,
            access_control_list: AccessControlList { grant },
        }
    }
}

/// The request body of PutBucketAcl and PutObjectAcl. A grantee is told apart by the element
/// it carries (`ID`, `URI`, `EmailAddress`); its `xsi:type` attribute is not needed for that.
#[derive(Debug, Deserialize)]
pub struct AccessControlPolicyIn {
    #[serde(rename = "Owner")]
    pub owner: Option<OwnerIn>,
    #[serde(rename = "AccessControlList")]
    pub access_control_list: Option<AccessControlListIn>,
}

impl RequestDocument for AccessControlPolicyIn {
    const ROOT: &'static str = "AccessControlPolicy";
    const MAX_ELEMENTS: usize = 2_000;
}

#[derive(Debug, Deserialize)]
pub struct OwnerIn {
    #[serde(rename = "ID")]
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AccessControlListIn {
    #[serde(rename = "Grant", default)]
    pub grants: Vec<GrantIn>,
}

#[derive(Debug, Deserialize)]
pub struct GrantIn {
    #[serde(rename = "Grantee")]
    pub grantee: Option<GranteeIn>,
    #[serde(rename = "Permission")]
    pub permission: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct GranteeIn {
    #[serde(rename = "ID")]
    pub id: Option<String>,
    #[serde(rename = "URI")]
    pub uri: Option<String>,
    #[serde(rename = "EmailAddress")]
    pub email: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::{AclPermission, Grant};
    use crate::s3::xml::{assert_documented, read, to_xml, S3_XMLNS};

    const ID: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";

    fn owner() -> Owner {
        Owner {
            id: ID.into(),
            display_name: "CustomersName@amazon.com".into(),
        }
    }

    /// The ACL of AWS's GetBucketAcl example: the owner's FULL_CONTROL.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketAcl.html>
    #[test]
    fn the_default_acl_answers_as_documented() {
        let ours = to_xml(None, &AccessControlPolicy::of(owner(), &Acl::private(ID))).unwrap();
        assert_documented(
            &ours,
            r#"<AccessControlPolicy>
              <Owner>
                <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
                <DisplayName>CustomersName@amazon.com</DisplayName>
              </Owner>
              <AccessControlList>
                <Grant>
                  <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                        xsi:type="CanonicalUser">
                    <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
                    <DisplayName>CustomersName@amazon.com</DisplayName>
                  </Grantee>
                  <Permission>FULL_CONTROL</Permission>
                </Grant>
              </AccessControlList>
            </AccessControlPolicy>"#,
        );
        assert!(ours.contains(&format!("<AccessControlPolicy xmlns=\"{S3_XMLNS}\">")));
        assert!(ours.contains(
            "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:type=\"CanonicalUser\">"
        ));
    }

    /// A group grant, as S3 shows a `public-read` object's ACL (the Grantee data type's
    /// `URI` form): `xsi:type="Group"` and the group's URI, no ID or display name.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_Grantee.html>
    #[test]
    fn group_grants_answer_with_their_uri() {
        let acl = Acl {
            grants: vec![
                Grant {
                    grantee: Grantee::CanonicalUser(ID.into()),
                    permission: AclPermission::FullControl,
                },
                Grant {
                    grantee: Grantee::AllUsers,
                    permission: AclPermission::Read,
                },
                Grant {
                    grantee: Grantee::AuthenticatedUsers,
                    permission: AclPermission::WriteAcp,
                },
            ],
        };
        let ours = to_xml(None, &AccessControlPolicy::of(owner(), &acl)).unwrap();
        assert!(
            ours.contains(
                "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
                 xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>\
                 </Grantee><Permission>READ</Permission></Grant>"
            ),
            "{ours}"
        );
        assert!(ours.contains(
            "<URI>http://acs.amazonaws.com/groups/global/AuthenticatedUsers</URI></Grantee>\
             <Permission>WRITE_ACP</Permission>"
        ));
    }

    /// The request body of AWS's PutObjectAcl example: the owner, a canonical user's
    /// FULL_CONTROL, and grants by e-mail address.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html>
    #[test]
    fn put_acl_bodies_are_read_as_documented() {
        let body = br#"<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Owner>
            <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
            <DisplayName>CustomersName@amazon.com</DisplayName>
          </Owner>
          <AccessControlList>
            <Grant>
              <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">
                <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
                <DisplayName>CustomerName@amazon.com</DisplayName>
              </Grantee>
              <Permission>FULL_CONTROL</Permission>
            </Grant>
            <Grant>
              <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="AmazonCustomerByEmail">
                <EmailAddress>xyz@amazon.com</EmailAddress>
              </Grantee>
              <Permission>WRITE_ACP</Permission>
            </Grant>
            <Grant>
              <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">
                <URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>
              </Grantee>
              <Permission>READ</Permission>
            </Grant>
          </AccessControlList>
        </AccessControlPolicy>"#;
        let doc: AccessControlPolicyIn = read(body).unwrap();
        assert_eq!(doc.owner.unwrap().id.as_deref(), Some(ID));
        let grants = doc.access_control_list.unwrap().grants;
        assert_eq!(grants.len(), 3);
        let first = grants[0].grantee.as_ref().unwrap();
        assert_eq!(
            (first.id.as_deref(), first.uri.as_deref()),
            (Some(ID), None)
        );
        assert_eq!(grants[0].permission.as_deref(), Some("FULL_CONTROL"));
        let second = grants[1].grantee.as_ref().unwrap();
        assert_eq!(second.email.as_deref(), Some("xyz@amazon.com"));
        let third = grants[2].grantee.as_ref().unwrap();
        assert_eq!(third.uri.as_deref(), Some(ALL_USERS));
        assert_eq!(grants[2].permission.as_deref(), Some("READ"));
    }
}
