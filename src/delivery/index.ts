// Delivery: claim, route, call the adapter, retry, deadline, dead letter (DESIGN, The flow of a packet).
export { DeliveryService } from './delivery-service.ts';
export type { DeliveryDeps, DeliveryOptions, RouteSource, WorkersStatus } from './delivery-service.ts';
export { AdapterPool } from './adapter-pool.ts';
export type { AdapterPoolOptions } from './adapter-pool.ts';
export { backoffCeilingMs, retryDelayMs } from './backoff.ts';
export type { RetryPolicy } from './backoff.ts';
export { CircuitBreaker } from './circuit-breaker.ts';
export type { CircuitBreakerOptions, CircuitPermit, CircuitState } from './circuit-breaker.ts';
export { WakeSignal } from './wake-signal.ts';
