// Notification channels. A notification only wakes a worker early; correctness never depends on it
// (a slow sweep claims whatever a lost notification left behind).

/** Wakes delivery workers: deliveries were queued or re-queued. */
export const DELIVERIES_CHANNEL = 'edxgate_deliveries';
