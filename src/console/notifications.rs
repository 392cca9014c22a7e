//! The bell: an operator's in-app notifications, how many are unread, and
//! marking them read. Each operator reads and marks only their own.

use crate::accounts::OperatorIdentity;
use crate::clock::SharedClock;
use crate::error::Result;
use crate::storage::{Db, notifications as store};

use super::items::{NotificationItem, Page, Paged};

/// An operator's notifications.
#[derive(Clone)]
pub struct NotificationService {
    db: Db,
    clock: SharedClock,
}

impl NotificationService {
    pub fn new(db: Db, clock: SharedClock) -> NotificationService {
        NotificationService { db, clock }
    }

    /// The bell: how many of this operator's notifications are unread.
    pub async fn unread_count(&self, op: &OperatorIdentity) -> Result<i64> {
        Ok(store::unread_count(&self.db, op.id).await?)
    }

    /// This operator's notifications, newest first.
    pub async fn notifications(
        &self,
        op: &OperatorIdentity,
        unread_only: bool,
        page: Page,
    ) -> Result<Paged<NotificationItem>> {
        let rows = store::notifications(
            &self.db,
            op.id,
            unread_only,
            page.probe_limit(),
            page.offset(),
        )
        .await?;
        Ok(page.cut(rows.iter().map(NotificationItem::of).collect()))
    }

    /// Marks one of this operator's notifications read. Another operator's
    /// notification never changes; marking twice is harmless.
    pub async fn mark_read(&self, op: &OperatorIdentity, id: i64) -> Result<()> {
        store::mark_read(&self.db, op.id, Some(id), self.clock.now()).await?;
        Ok(())
    }

    pub async fn mark_all_read(&self, op: &OperatorIdentity) -> Result<()> {
        store::mark_read(&self.db, op.id, None, self.clock.now()).await?;
        Ok(())
    }
}
