//! Which replica pulls which partition of a partitioned feed (ADR 0043).
//!
//! Every running replica of a durable consumer is a member: it writes a row
//! (`consumer_members`: consumer, a random id of its own, when last seen)
//! every [`HEARTBEAT`] and reads the others that were seen within
//! [`LIVE_FOR`]. From the same sorted list each member works out the same
//! share ([`assignment`]): partition `p` is pulled by the member at index
//! `p mod n`. When a replica starts or stops (a stopping one deletes its
//! row; one that died is forgotten after [`LIVE_FOR`]) the shares change at
//! the next heartbeat. For that moment two replicas may pull one partition,
//! or none does: both are harmless, the first because every event is
//! applied under its stream's checkpoint row (a second delivery is a
//! duplicate, a later version first fills the gap from the store), the
//! second because JetStream keeps the messages until they are pulled.
//! Time is the database's (`now()`), so the replicas' clocks do not matter.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::SqlStr;
use uuid::Uuid;

use crate::sql::schema_sql;
use crate::subjects::{PARTITIONS, Slot};

/// How often a member says it is alive and reads the others.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// How long a member counts as alive after its last heartbeat: three
/// missed heartbeats and a margin.
pub const LIVE_FOR: Duration = Duration::from_secs(7);

/// The slots member `me` pulls when `members` (every live member; `me` is
/// counted even when absent) share the partitions, and `unpartitioned` says
/// whether the unpartitioned slot has a consumer to drain: partition `p`
/// goes to the member at index `p mod n` of the sorted list, the
/// unpartitioned slot to the holder of partition 0.
pub fn assignment(members: &[Uuid], me: Uuid, unpartitioned: bool) -> Vec<Slot> {
    let mut all: Vec<Uuid> = members.to_vec();
    all.push(me);
    all.sort();
    all.dedup();
    let index = all.iter().position(|m| *m == me).unwrap_or(0);
    let n = all.len();
    let mut slots: Vec<Slot> = (0..PARTITIONS).filter(|p| usize::from(*p) % n == index).map(Slot::Partition).collect();
    if unpartitioned && index == 0 {
        slots.push(Slot::Unpartitioned);
    }
    slots
}

/// One replica's membership of one consumer.
pub(super) struct Members {
    pool: PgPool,
    consumer: String,
    me: Uuid,
    beat: SqlStr,
    leave: SqlStr,
}

impl Members {
    pub(super) fn new(pool: PgPool, schema: &str, consumer: &str) -> Self {
        Members {
            pool,
            consumer: consumer.to_owned(),
            me: Uuid::new_v4(),
            // Says it is alive, forgets members not seen for an hour, and
            // lists the live ones (a row this statement inserts is not yet
            // visible to its own SELECT: the caller counts itself).
            beat: schema_sql(
                schema,
                "WITH beat AS (
                     INSERT INTO {schema}.consumer_members (consumer, member, seen_at) VALUES ($1, $2, now())
                     ON CONFLICT (consumer, member) DO UPDATE SET seen_at = now()
                 ), forgotten AS (
                     DELETE FROM {schema}.consumer_members
                      WHERE consumer = $1 AND seen_at < now() - interval '1 hour'
                 )
                 SELECT member FROM {schema}.consumer_members
                  WHERE consumer = $1 AND seen_at >= now() - make_interval(secs => $3)",
            ),
            leave: schema_sql(schema, "DELETE FROM {schema}.consumer_members WHERE consumer = $1 AND member = $2"),
        }
    }

    pub(super) fn me(&self) -> Uuid {
        self.me
    }

    /// Says this member is alive; returns the other live members as the
    /// database saw them (this one only from its second heartbeat on:
    /// [`assignment`] counts it anyway).
    pub(super) async fn beat(&self) -> Result<Vec<Uuid>, sqlx::Error> {
        sqlx::query_scalar(self.beat.clone())
            .bind(&self.consumer)
            .bind(self.me)
            .bind(LIVE_FOR.as_secs_f64())
            .fetch_all(&self.pool)
            .await
    }

    /// Leaves: the others take its partitions at their next heartbeat.
    pub(super) async fn leave(&self) {
        if let Err(e) = sqlx::query(self.leave.clone()).bind(&self.consumer).bind(self.me).execute(&self.pool).await {
            tracing::warn!(consumer = %self.consumer, error = %e, "could not leave the consumer's members; they wait for it to age out");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Vec<Uuid> {
        (1..=n).map(|i| Uuid::from_u128(i * 0x1234_5678_9abc)).collect()
    }

    #[test]
    fn every_partition_is_pulled_by_exactly_one_member_and_the_shares_differ_by_at_most_one() {
        for n in 1..=(u128::from(PARTITIONS) + 3) {
            let members = ids(n);
            let shares: Vec<Vec<Slot>> = members.iter().map(|m| assignment(&members, *m, true)).collect();
            for p in 0..PARTITIONS {
                let holders = shares.iter().filter(|s| s.contains(&Slot::Partition(p))).count();
                assert_eq!(holders, 1, "partition {p} with {n} members");
            }
            let unpartitioned = shares.iter().filter(|s| s.contains(&Slot::Unpartitioned)).count();
            assert_eq!(unpartitioned, 1, "{n} members");
            let counts: Vec<usize> =
                shares.iter().map(|s| s.iter().filter(|x| **x != Slot::Unpartitioned).count()).collect();
            let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            assert!(max - min <= 1, "{counts:?}");
        }
    }

    #[test]
    fn alone_a_member_pulls_everything_and_counts_itself_when_the_list_lacks_it() {
        let me = Uuid::from_u128(9);
        let all: Vec<Slot> = Slot::all().collect();
        assert_eq!(assignment(&[], me, true), all);
        assert_eq!(assignment(&[me], me, false), all[..usize::from(PARTITIONS)].to_vec());
        // Two members, the list read before this one's row was visible.
        let other = Uuid::from_u128(3);
        let mine = assignment(&[other], me, true);
        let theirs = assignment(&[other, me], other, true);
        assert_eq!(mine.len() + theirs.len(), usize::from(PARTITIONS) + 1);
        assert!(mine.iter().all(|s| !theirs.contains(s)));
    }
}
