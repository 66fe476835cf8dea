//! Where the store writes. On PostgreSQL, a job runs on a pooled connection,
//! in a transaction of its own when it must be atomic. On SQLite, which lets
//! one writer in at a time, jobs queue for the one writing connection, and
//! the writer commits them in groups: it takes every job waiting, runs them
//! in one transaction, each that must be atomic in a savepoint of its own,
//! and commits them together with one fsync (`synchronous = FULL` stays:
//! nothing is answered before it is on disk). A job that fails rolls back
//! its own savepoint (or its one statement) only; a commit that fails fails
//! every job of its group.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sqlx::{AnyConnection, AnyPool, Connection};
use tokio::sync::{mpsc, oneshot};

use super::{StoreError, StoreResult};

/// At most this many jobs share one commit, so that the first of a long
/// queue is not kept waiting for all the rest.
const MAX_GROUP: usize = 128;

/// What a job decided about what it wrote.
pub(crate) enum Done<T> {
    /// Keep it, and answer `T` once it is committed.
    Kept(T),
    /// Roll it back (a guard failed half-way), and answer `T`.
    Undone(T),
}

/// A job as the SQLite writer runs it, its answer held back until the commit.
type Queued = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Held> + Send>;

/// Sends a job's answer, or why its group's commit failed.
type Answer = Box<dyn FnOnce(Option<&str>) + Send>;

/// A job's answer waiting for its group's commit.
struct Held {
    /// Whether the job's savepoint is kept.
    keep: bool,
    answer: Answer,
}

enum Queue {
    /// Runs with others in one transaction; in a savepoint of its own if
    /// the flag says so (it writes several statements that must stand or
    /// fall together), else its one statement is atomic by itself.
    Grouped(Queued, bool),
    /// Runs alone, outside any transaction (a checkpoint, say).
    Alone(Queued),
}

pub(crate) struct Writer(Mode);

enum Mode {
    Pool(AnyPool),
    Queue(mpsc::UnboundedSender<Queue>),
}

impl Writer {
    /// PostgreSQL's: the shared pool, which lets many write at once.
    pub(crate) fn pool(pool: AnyPool) -> Self {
        Self(Mode::Pool(pool))
    }

    /// SQLite's: one task that owns the pool's one connection.
    pub(crate) fn group_commit(pool: AnyPool) -> Self {
        let (send, receive) = mpsc::unbounded_channel();
        tokio::spawn(serve(pool, receive));
        Self(Mode::Queue(send))
    }

    /// Runs `job` atomically: all it writes, or none of it.
    pub(crate) async fn atomic<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<Done<T>>>
            + Send
            + 'static,
    {
        self.atomic_then(job, |_| {}).await
    }

    /// As [`Writer::atomic`], and `then` runs on what the job kept as soon
    /// as it is committed, whether or not the caller still waits for it
    /// (a request cancelled meanwhile does not stop it).
    pub(crate) async fn atomic_then<T, F>(
        &self,
        job: F,
        then: impl FnOnce(&mut T) + Send + 'static,
    ) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<Done<T>>>
            + Send
            + 'static,
    {
        match &self.0 {
            Mode::Pool(pool) => {
                // A task of its own, so that a caller dropped mid-way (a
                // client that hung up) stops neither the commit nor `then`.
                let pool = pool.clone();
                let transaction = async move {
                    let mut conn = pool.acquire().await?;
                    let mut tx = conn.begin().await?;
                    match job(&mut tx).await? {
                        Done::Kept(mut value) => {
                            tx.commit().await?;
                            then(&mut value);
                            Ok(value)
                        }
                        Done::Undone(value) => {
                            tx.rollback().await?;
                            Ok(value)
                        }
                    }
                };
                tokio::spawn(transaction).await.unwrap_or_else(|stopped| {
                    Err(StoreError::NotCommitted(format!(
                        "the transaction's task stopped: {stopped}"
                    )))
                })
            }
            Mode::Queue(queue) => enqueue(queue, job, |q| Queue::Grouped(q, true), then).await,
        }
    }

    /// Runs `job`, one statement or several that need not be atomic
    /// together: on SQLite it takes no savepoint of its own.
    pub(crate) async fn run<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<Done<T>>>
            + Send
            + 'static,
    {
        match &self.0 {
            Mode::Pool(pool) => {
                let mut conn = pool.acquire().await?;
                match job(&mut conn).await? {
                    Done::Kept(value) | Done::Undone(value) => Ok(value),
                }
            }
            Mode::Queue(queue) => enqueue(queue, job, |q| Queue::Grouped(q, false), |_| {}).await,
        }
    }

    /// Runs `job`, one write whose loss to a crash does no harm (a rate
    /// limit's hit), or a read that must see such writes, and answers as
    /// soon as it has run: on SQLite it does not wait for its group's
    /// commit.
    pub(crate) async fn run_unsynced<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<Done<T>>>
            + Send
            + 'static,
    {
        let Mode::Queue(queue) = &self.0 else {
            return self.run(job).await;
        };
        let (send, receive) = oneshot::channel::<StoreResult<T>>();
        let answered_at_once = job_of(move |c| {
            Box::pin(async move {
                let ran = job(c).await;
                let kept = matches!(ran, Ok(Done::Kept(_)));
                let _ = send.send(ran.map(|done| match done {
                    Done::Kept(value) | Done::Undone(value) => value,
                }));
                Ok(if kept {
                    Done::Kept(())
                } else {
                    Done::Undone(())
                })
            })
        });
        let queue = queue.clone();
        tokio::spawn(async move {
            let _ = enqueue(
                &queue,
                answered_at_once,
                |q| Queue::Grouped(q, false),
                |_| {},
            )
            .await;
        });
        receive.await.map_err(|_| {
            StoreError::NotCommitted("the database writer stopped before this write ran".into())
        })?
    }

    /// Runs `job` outside any transaction: for what SQLite refuses inside
    /// one, such as a checkpoint.
    pub(crate) async fn alone<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<Done<T>>>
            + Send
            + 'static,
    {
        match &self.0 {
            Mode::Pool(_) => self.run(job).await,
            Mode::Queue(queue) => enqueue(queue, job, Queue::Alone, |_| {}).await,
        }
    }
}

/// A job, its signature stated so that a closure gets it.
fn job_of<T, F>(job: F) -> F
where
    F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<Done<T>>>,
{
    job
}

/// Queues `job` and waits for its answer, which comes after its commit.
async fn enqueue<T, F>(
    queue: &mpsc::UnboundedSender<Queue>,
    job: F,
    how: fn(Queued) -> Queue,
    then: impl FnOnce(&mut T) + Send + 'static,
) -> StoreResult<T>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<Done<T>>>
        + Send
        + 'static,
{
    let (send, receive) = oneshot::channel::<StoreResult<T>>();
    let queued: Queued = Box::new(move |conn| {
        Box::pin(async move {
            let (keep, result) = match job(conn).await {
                Ok(Done::Kept(value)) => (true, Ok(value)),
                Ok(Done::Undone(value)) => (false, Ok(value)),
                Err(error) => (false, Err(error)),
            };
            Held {
                keep,
                answer: Box::new(move |failed: Option<&str>| {
                    let _ = send.send(match failed {
                        None => result.map(|mut value| {
                            if keep {
                                then(&mut value);
                            }
                            value
                        }),
                        Some(why) => Err(StoreError::NotCommitted(why.to_string())),
                    });
                }),
            }
        })
    });
    queue
        .send(how(queued))
        .map_err(|_| StoreError::NotCommitted("the database writer has stopped".into()))?;
    receive.await.map_err(|_| {
        StoreError::NotCommitted("the database writer stopped before this write ran".into())
    })?
}

/// The SQLite writer: runs until every handle to its queue is gone.
async fn serve(pool: AnyPool, mut queue: mpsc::UnboundedReceiver<Queue>) {
    let mut next = None;
    loop {
        let first = match next.take() {
            Some(job) => job,
            None => match queue.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        match first {
            Queue::Alone(job) => match pool.acquire().await {
                Ok(mut conn) => {
                    if let Some(held) = run_held(job, &mut conn).await {
                        (held.answer)(None);
                    }
                }
                // The job is dropped unrun: its caller hears so.
                Err(error) => tracing::error!(%error, "the database writer has no connection"),
            },
            Queue::Grouped(job, own) => {
                let mut group = vec![(job, own)];
                while group.len() < MAX_GROUP {
                    match queue.try_recv() {
                        Ok(Queue::Grouped(job, own)) => group.push((job, own)),
                        Ok(alone) => {
                            next = Some(alone);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                commit_group(&pool, group).await;
            }
        }
    }
}

/// Runs a job, catching a panic so that the writer lives on; none if it
/// panicked (its caller is told the write did not happen).
async fn run_held(job: Queued, conn: &mut AnyConnection) -> Option<Held> {
    AssertUnwindSafe(job(conn)).catch_unwind().await.ok()
}

/// One transaction for the whole group, a savepoint for each job that
/// needs one.
async fn commit_group(pool: &AnyPool, group: Vec<(Queued, bool)>) {
    let mut answers = Vec::with_capacity(group.len());
    let outcome: Result<(), sqlx::Error> = async {
        let mut conn = pool.acquire().await?;
        let mut tx = conn.begin().await?;
        for (job, own) in group {
            if !own {
                // One statement: if it fails, SQLite undoes it alone.
                if let Some(held) = run_held(job, &mut tx).await {
                    answers.push(held.answer);
                }
                continue;
            }
            let mut savepoint = tx.begin().await?;
            match run_held(job, &mut savepoint).await {
                Some(held) => {
                    if held.keep {
                        savepoint.commit().await?;
                    } else {
                        savepoint.rollback().await?;
                    }
                    answers.push(held.answer);
                }
                None => savepoint.rollback().await?,
            }
        }
        tx.commit().await
    }
    .await;
    let failed = outcome.err().map(|e| e.to_string());
    if let Some(why) = &failed {
        tracing::error!(error = %why, jobs = answers.len(), "a group commit failed");
    }
    for answer in answers {
        answer(failed.as_deref());
    }
}
