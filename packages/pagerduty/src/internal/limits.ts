/**
 * PagerDuty's Events API v2 limits, documented where `EventsV2` exports them.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export const maxSummaryLength = 1024
/** @since 0.1.0 */
export const maxDedupKeyLength = 255
/** @since 0.1.0 */
export const maxRequestBytes = 512_000
/** @since 0.1.0 */
export const routingKeyLength = 32
