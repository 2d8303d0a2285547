/**
 * `livekit.Ingress` served by Pulse: LiveKit's requests become the REST API's bodies (validated by
 * the same schemas as `/v1/ingress`) and go through `ingress/service.ts` (same destination checks,
 * quota, audit). Answers are IngressInfo made from Pulse's record, with the tenant's room names.
 * Options Pulse does not support (custom audio/video encoding, creating an ingress disabled) are
 * refused by name.
 */
import {
  CreateIngressRequest,
  DeleteIngressRequest,
  IngressInfo,
  IngressInput,
  IngressState,
  IngressState_Status,
  ListIngressRequest,
  ListIngressResponse,
  UpdateIngressRequest,
} from "@livekit/protocol";
import { CreateIngressBody, UpdateIngressBody } from "../ingress/schemas";
import { createIngress, deleteIngress, getIngress, listIngresses, updateIngress, type IngressRow, type IngressWithKey } from "../ingress/service";
import { livekitNanos, onlySupportedFields, restBody, setFields } from "./codec";
import { listRecords, requireGrant, twirpMethod, type TwirpContext, type TwirpMethod } from "./methods";

const INPUT_TYPE: Record<string, "rtmp" | "whip" | "url"> = { RTMP_INPUT: "rtmp", WHIP_INPUT: "whip", URL_INPUT: "url" };
const LIVEKIT_INPUT: Record<IngressRow["inputType"], IngressInput> = {
  rtmp: IngressInput.RTMP_INPUT,
  whip: IngressInput.WHIP_INPUT,
  url: IngressInput.URL_INPUT,
};

/** Pulse's record of an ingress (with its stream key) as an IngressInfo, with the tenant's room: what every method answers. */
function ingressInfoFromRecord({ row, streamKey }: IngressWithKey): IngressInfo {
  return new IngressInfo({
    ingressId: row.ingressId,
    name: row.name,
    streamKey: streamKey ?? "",
    url: row.url ?? "",
    inputType: LIVEKIT_INPUT[row.inputType],
    roomName: row.room,
    participantIdentity: row.participantIdentity,
    reusable: row.inputType !== "url",
    state: new IngressState({
      status: IngressState_Status[row.status as keyof typeof IngressState_Status] ?? IngressState_Status.ENDPOINT_INACTIVE,
      error: row.error ?? "",
      startedAt: livekitNanos(row.startedAt),
      endedAt: livekitNanos(row.endedAt),
      updatedAt: livekitNanos(row.updatedAt),
    }),
  });
}

const ingressAdmin = requireGrant("ingressAdmin");

/** The caller's ingress named by LiveKit's id; another project's is not_found. */
const ingressOf = (ctx: TwirpContext, ingressId: string) => getIngress(ctx.deps, ctx.caller.projectId, { ingressId });

export const ingressMethods: Record<string, TwirpMethod> = {
  CreateIngress: twirpMethod({
    request: CreateIngressRequest,
    authorize: ingressAdmin,
    async handle(ctx, message) {
      const req = setFields(message);
      // `enabled: true` is LiveKit's default; only a disabled ingress is something Pulse cannot create.
      if (req.enabled === true) delete req.enabled;
      onlySupportedFields(req, ["inputType", "url", "name", "roomName", "participantIdentity", "participantName", "participantMetadata", "enableTranscoding"]);
      const body = restBody(CreateIngressBody, {
        input_type: INPUT_TYPE[String(req.inputType ?? "RTMP_INPUT")],
        room: req.roomName ?? "",
        participant_identity: req.participantIdentity ?? "",
        participant_name: req.participantName,
        participant_metadata: req.participantMetadata,
        name: req.name,
        url: req.url,
        enable_transcoding: req.enableTranscoding,
      });
      return ingressInfoFromRecord(await createIngress(ctx.deps, ctx.caller.audit, ctx.caller, body));
    },
  }),
  UpdateIngress: twirpMethod({
    request: UpdateIngressRequest,
    authorize: ingressAdmin,
    async handle(ctx, message) {
      const req = setFields(message);
      onlySupportedFields(req, ["ingressId", "name", "roomName", "participantIdentity", "participantName", "participantMetadata", "enabled"]);
      // LiveKit's UpdateIngress: an empty string leaves the field as it is.
      const change = restBody(UpdateIngressBody, {
        name: message.name || undefined,
        room: message.roomName || undefined,
        participant_identity: message.participantIdentity || undefined,
        participant_name: message.participantName || undefined,
        participant_metadata: message.participantMetadata || undefined,
        enabled: message.enabled,
      });
      return ingressInfoFromRecord(await updateIngress(ctx.deps, ctx.caller.audit, ctx.caller, { ingressId: message.ingressId }, change));
    },
  }),
  ListIngress: twirpMethod({
    request: ListIngressRequest,
    authorize: ingressAdmin,
    async handle(ctx, req) {
      const rows = await listRecords(
        { roomName: req.roomName, id: req.ingressId },
        (id) => ingressOf(ctx, id),
        ({ id, ...query }) => listIngresses(ctx.deps, ctx.caller.projectId, { ...query, ingressId: id }),
      );
      return new ListIngressResponse({ items: rows.map(ingressInfoFromRecord) });
    },
  }),
  DeleteIngress: twirpMethod({
    request: DeleteIngressRequest,
    authorize: ingressAdmin,
    async handle(ctx, req) {
      const existing = await ingressOf(ctx, req.ingressId);
      await deleteIngress(ctx.deps, ctx.caller.audit, ctx.caller, { ingressId: req.ingressId });
      return ingressInfoFromRecord(existing);
    },
  }),
};
