/**
 * Notification queue defaults, shared by the construct and the local stack so both behave alike.
 */

/** Receives before a message moves to the dead-letter queue. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;
/** Visibility timeout of the notification queue, in seconds (a consumer's time to process one message). */
export const DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 300;
/** Retention of the notification queue, in seconds: 4 days outlives a weekend outage. */
export const DEFAULT_QUEUE_RETENTION_SECONDS = 4 * 24 * 3600;
/** Retention of the dead-letter queue, in seconds: 14 days, the SQS maximum. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;
