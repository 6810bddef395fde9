/**
 * gRPC status codes by name, as the gRPC spec numbers them. Kept here so that the
 * source can map codes without importing @grpc/grpc-js (an optional peer).
 */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcCodeName = keyof typeof GrpcCode;

/** The name of a numeric code ("NOT_FOUND"), or "UNKNOWN" for anything else. */
export function grpcCodeName(code: unknown): GrpcCodeName {
  for (const [name, value] of Object.entries(GrpcCode)) if (value === code) return name as GrpcCodeName;
  return 'UNKNOWN';
}
