//! Statements of workspaces, tenants, people and the audit log.

use chrono::{DateTime, Utc};

use crate::args;
use crate::domain::{
    AuditEntry, DEFAULT_WORKSPACE_SLUG, PLATFORM_TENANT_EXTERNAL_ID, Tenant, Workspace,
};
use crate::storage::{Db, Tx};

/// Creates the `default` workspace and its `platform` tenant when missing.
pub async fn bootstrap(db: &Db, now: DateTime<Utc>) -> Result<Workspace, sqlx::Error> {
    let mut tx = db.begin().await?;
    tx.execute(
        "INSERT INTO workspaces (slug, name, created_at) VALUES ($1, 'Default', $2) ON CONFLICT (slug) DO NOTHING",
        args![DEFAULT_WORKSPACE_SLUG, now],
    )
    .await?;
    let ws = tx
        .fetch_one::<Workspace>(
            "SELECT id, slug, name FROM workspaces WHERE slug = $1",
            args![DEFAULT_WORKSPACE_SLUG],
        )
        .await?;
    tx.execute(
        "INSERT INTO tenants (workspace_id, external_id, name, created_at) VALUES ($1, $2, 'Platform', $3) \
         ON CONFLICT (workspace_id, external_id) DO NOTHING",
        args![ws.id, PLATFORM_TENANT_EXTERNAL_ID, now],
    )
    .await?;
    tx.commit().await?;
    Ok(ws)
}

/// The workspace v1 runbooks and alerts act on (seed decision 3).
pub async fn default_workspace(db: &Db) -> crate::error::Result<Workspace> {
    workspace_by_slug(db, DEFAULT_WORKSPACE_SLUG)
        .await?
        .ok_or_else(|| {
            crate::error::Error::Internal(anyhow::anyhow!(
                "the default workspace is missing; run migrate"
            ))
        })
}

pub async fn workspace_by_slug(db: &Db, slug: &str) -> Result<Option<Workspace>, sqlx::Error> {
    db.fetch_optional(
        "SELECT id, slug, name FROM workspaces WHERE slug = $1",
        args![slug],
    )
    .await
}

pub async fn workspace_by_id(db: &Db, id: i64) -> Result<Option<Workspace>, sqlx::Error> {
    db.fetch_optional(
        "SELECT id, slug, name FROM workspaces WHERE id = $1",
        args![id],
    )
    .await
}

/// How many tenants of any workspace have an external id starting with `prefix`.
pub async fn count_tenants_with_prefix(db: &Db, prefix: &str) -> Result<i64, sqlx::Error> {
    db.scalar(
        "SELECT count(*) FROM tenants WHERE external_id LIKE $1",
        args![format!("{prefix}%")],
    )
    .await
}

pub async fn tenant_by_external_id(
    db: &Db,
    workspace_id: i64,
    external_id: &str,
) -> Result<Option<Tenant>, sqlx::Error> {
    db.fetch_optional(
        "SELECT id, workspace_id, external_id, name FROM tenants WHERE workspace_id = $1 AND external_id = $2",
        args![workspace_id, external_id],
    )
    .await
}

pub async fn tenants_of(db: &Db, workspace_id: i64) -> Result<Vec<Tenant>, sqlx::Error> {
    db.fetch_all(
        "SELECT id, workspace_id, external_id, name FROM tenants WHERE workspace_id = $1 ORDER BY external_id",
        args![workspace_id],
    )
    .await
}

/// The first `limit` external ids of `ids`, in external id order.
pub async fn external_ids(db: &Db, ids: &[i64], limit: i64) -> Result<Vec<String>, sqlx::Error> {
    let cond = crate::storage::exec::in_id_list(db.backend(), "id", "$1");
    let rows: Vec<(String,)> = db
        .fetch_all(
            &format!("SELECT external_id FROM tenants WHERE {cond} ORDER BY external_id LIMIT $2"),
            args![crate::storage::exec::id_list(ids.iter().copied()), limit],
        )
        .await?;
    Ok(rows.into_iter().map(|(e,)| e).collect())
}

/// Records an audit entry in a transaction of its own.
pub async fn audit_now(db: &Db, entry: &AuditEntry, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    audit(&mut tx, entry, now).await?;
    tx.commit().await
}

pub async fn audit(tx: &mut Tx, entry: &AuditEntry, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    tx.execute(
        "INSERT INTO audit_events (actor_kind, actor_id, actor_email, action, subject, detail, ip, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![
            entry.actor_kind.clone(),
            entry.actor_id,
            entry.actor_email.clone(),
            entry.action.clone(),
            entry.subject.clone(),
            entry.detail.to_string(),
            entry.ip.clone(),
            now
        ],
    )
    .await
    .map(|_| ())
}
