//! Where a query reads (DESIGN §13): the database the replica set
//! chooses, with a snapshot loader on it that shares the kept snapshots.

use std::sync::Arc;

use async_graphql::Request;

use super::SharedSnapshots;
use crate::metrics::Metrics;
use crate::replicas::ReplicaSet;
use crate::store::WalPosition;

/// What sends queries to replicas.
#[derive(Clone)]
pub struct ReadRouting {
    pub replicas: Arc<ReplicaSet>,
    pub snapshots: SharedSnapshots,
    pub metrics: Metrics,
}

impl ReadRouting {
    /// `request` reading on a replica that has replayed `read_after` (any
    /// healthy one without it), else on the primary; counted in /metrics.
    pub async fn route(&self, request: Request, read_after: Option<WalPosition>) -> Request {
        let target = self.replicas.choose(read_after).await;
        self.metrics.record_read(&target.name, target.fell_back);
        let loader = self.snapshots.loader_on(target.store.clone());
        request.data(target.store).data(loader)
    }
}
