/** The operators' shapes for LiveKit events given up on (`inbound/abandoned.ts`). */
import { z } from "@hono/zod-openapi";
import { REQUEUE_ABANDONED_MAX } from "./abandoned";

const StoredEventId = z.string().min(1).max(64);

export const AbandonedEventSchema = z
  .object({
    id: z.string().openapi({ description: "Pulse's id of the stored event (`lke_…`)." }),
    event_id: z.string().openapi({ description: "LiveKit's event id." }),
    event: z.string().openapi({ example: "participant_left" }),
    room_name: z.string().nullable().openapi({ description: "The room as LiveKit names it (`<project_id>:<room>`); null for events without a room." }),
    received_at: z.string(),
    requeues: z.number().int().openapi({ description: "Times the safety net put it back on the inbound queue before giving up." }),
    abandoned_at: z.string(),
  })
  .openapi("AbandonedLivekitEvent");

export const RequeueAbandonedBody = z
  .strictObject({
    ids: z
      .array(StoredEventId)
      .min(1)
      .max(REQUEUE_ABANDONED_MAX)
      .optional()
      .openapi({ description: "Stored event ids (`lke_…`) to put back; ids of events not given up on are ignored. Omitted: any given up on." }),
    limit: z
      .number()
      .int()
      .min(1)
      .max(REQUEUE_ABANDONED_MAX)
      .optional()
      .openapi({ description: `At most this many, those given up on longest ago first (default ${REQUEUE_ABANDONED_MAX}): a few first, to see that the cause is fixed.` }),
  })
  .openapi("RequeueAbandonedLivekitEvents");

export const RequeueAbandonedSchema = z
  .object({
    requeued: z.array(z.string()).openapi({ description: "Stored event ids put back in line and on the inbound queue." }),
    more: z.boolean().openapi({ description: "True while other events given up on remain: call again to put back the next ones." }),
  })
  .openapi("RequeuedAbandonedLivekitEvents");
