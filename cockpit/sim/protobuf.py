"""Reading the protobuf request bodies kubectl's typed clients send.

kubectl encodes some bodies as `application/vnd.kubernetes.protobuf` whatever the
server prefers (`auth can-i` posts a SelfSubjectAccessReview, `create job --from` a
Job, `drain` an Eviction).  Responses can stay JSON (those clients accept it), so only
decoding is needed, and only for the messages those commands send.  The field table
below covers them; fields it does not know are skipped.

Envelope: the bytes "k8s\\0" then a runtime.Unknown {typeMeta{apiVersion, kind}, raw}
whose raw is the object message.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cockpit.sim.errors import ApiError
from cockpit.sim.objects import micro_ts, ts

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

# message: "number name type; ..."  Types: s string, i integer, b bool, y bytes,
# T Time, Q Quantity, I IntOrString, M map<string,string>, MQ map<string,Quantity>,
# MB map<string,bytes> (base64 in JSON),
# or a message name; a leading * marks a repeated field; the name "-" inlines a
# message's fields into its parent, as the JSON form does.
_SCHEMA = """
Unknown: 1 typeMeta TypeMeta; 2 raw y; 3 contentEncoding s; 4 contentType s
TypeMeta: 1 apiVersion s; 2 kind s
ObjectMeta: 1 name s; 2 generateName s; 3 namespace s; 5 uid s; 6 resourceVersion s;
  7 generation i; 8 creationTimestamp T; 9 deletionTimestamp T;
  10 deletionGracePeriodSeconds i; 11 labels M; 12 annotations M;
  13 ownerReferences *OwnerReference; 14 finalizers *s
OwnerReference: 1 kind s; 3 name s; 4 uid s; 5 apiVersion s; 6 controller b;
  7 blockOwnerDeletion b
LabelSelector: 1 matchLabels M; 2 matchExpressions *LabelSelectorRequirement
LabelSelectorRequirement: 1 key s; 2 operator s; 3 values *s
SelfSubjectAccessReview: 1 metadata ObjectMeta; 2 spec SelfSubjectAccessReviewSpec
SelfSubjectAccessReviewSpec: 1 resourceAttributes ResourceAttributes;
  2 nonResourceAttributes NonResourceAttributes
ResourceAttributes: 1 namespace s; 2 verb s; 3 group s; 4 version s; 5 resource s;
  6 subresource s; 7 name s; 8 fieldSelector SelectorAttributes;
  9 labelSelector SelectorAttributes
SelectorAttributes: 1 rawSelector s; 2 requirements *LabelSelectorRequirement
NonResourceAttributes: 1 path s; 2 verb s
SelfSubjectRulesReview: 1 metadata ObjectMeta; 2 spec SelfSubjectRulesReviewSpec
SelfSubjectRulesReviewSpec: 1 namespace s
SelfSubjectReview: 1 metadata ObjectMeta
Eviction: 1 metadata ObjectMeta; 2 deleteOptions DeleteOptions
DeleteOptions: 1 gracePeriodSeconds i; 2 preconditions Preconditions;
  3 orphanDependents b; 4 propagationPolicy s; 5 dryRun *s
Preconditions: 1 uid s; 2 resourceVersion s
Job: 1 metadata ObjectMeta; 2 spec JobSpec
JobSpec: 1 parallelism i; 2 completions i; 3 activeDeadlineSeconds i;
  4 selector LabelSelector; 5 manualSelector b; 6 template PodTemplateSpec;
  7 backoffLimit i; 8 ttlSecondsAfterFinished i; 9 completionMode s; 10 suspend b;
  12 backoffLimitPerIndex i; 13 maxFailedIndexes i; 14 podReplacementPolicy s;
  15 managedBy s
PodTemplateSpec: 1 metadata ObjectMeta; 2 spec PodSpec
PodSpec: 1 volumes *Volume; 2 containers *Container; 3 restartPolicy s;
  4 terminationGracePeriodSeconds i; 5 activeDeadlineSeconds i; 6 dnsPolicy s;
  7 nodeSelector M; 8 serviceAccountName s; 9 serviceAccount s; 10 nodeName s;
  11 hostNetwork b; 12 hostPID b; 13 hostIPC b; 14 securityContext PodSecurityContext;
  15 imagePullSecrets *LocalObjectReference; 16 hostname s; 17 subdomain s;
  19 schedulerName s; 20 initContainers *Container; 21 automountServiceAccountToken b;
  22 tolerations *Toleration; 24 priorityClassName s; 25 priority i;
  27 shareProcessNamespace b; 29 runtimeClassName s; 30 enableServiceLinks b;
  31 preemptionPolicy s; 35 setHostnameAsFQDN b; 37 hostUsers b
Container: 1 name s; 2 image s; 3 command *s; 4 args *s; 5 workingDir s;
  6 ports *ContainerPort; 7 env *EnvVar; 8 resources ResourceRequirements;
  9 volumeMounts *VolumeMount; 10 livenessProbe Probe; 11 readinessProbe Probe;
  13 terminationMessagePath s; 14 imagePullPolicy s; 15 securityContext SecurityContext;
  16 stdin b; 17 stdinOnce b; 18 tty b; 19 envFrom *EnvFromSource;
  20 terminationMessagePolicy s; 22 startupProbe Probe; 24 restartPolicy s
ContainerPort: 1 name s; 2 hostPort i; 3 containerPort i; 4 protocol s; 5 hostIP s
EnvVar: 1 name s; 2 value s; 3 valueFrom EnvVarSource
EnvVarSource: 1 fieldRef ObjectFieldSelector; 2 resourceFieldRef ResourceFieldSelector;
  3 configMapKeyRef KeySelector; 4 secretKeyRef KeySelector
KeySelector: 1 - LocalObjectReference; 2 key s; 3 optional b
ObjectFieldSelector: 1 apiVersion s; 2 fieldPath s
ResourceFieldSelector: 1 containerName s; 2 resource s; 3 divisor Q
EnvFromSource: 1 prefix s; 2 configMapRef EnvSource; 3 secretRef EnvSource
EnvSource: 1 - LocalObjectReference; 2 optional b
LocalObjectReference: 1 name s
ResourceRequirements: 1 limits MQ; 2 requests MQ
VolumeMount: 1 name s; 2 readOnly b; 3 mountPath s; 4 subPath s; 5 mountPropagation s;
  6 subPathExpr s
Volume: 1 name s; 2 - VolumeSource
VolumeSource: 1 hostPath HostPathVolumeSource; 2 emptyDir EmptyDirVolumeSource;
  6 secret SecretVolumeSource; 10 persistentVolumeClaim PVCVolumeSource;
  19 configMap ConfigMapVolumeSource
HostPathVolumeSource: 1 path s; 2 type s
EmptyDirVolumeSource: 1 medium s; 2 sizeLimit Q
SecretVolumeSource: 1 secretName s; 2 items *KeyToPath; 3 defaultMode i; 4 optional b
ConfigMapVolumeSource: 1 - LocalObjectReference; 2 items *KeyToPath; 3 defaultMode i;
  4 optional b
KeyToPath: 1 key s; 2 path s; 3 mode i
PVCVolumeSource: 1 claimName s; 2 readOnly b
Probe: 1 - ProbeHandler; 2 initialDelaySeconds i; 3 timeoutSeconds i; 4 periodSeconds i;
  5 successThreshold i; 6 failureThreshold i; 7 terminationGracePeriodSeconds i
ProbeHandler: 1 exec ExecAction; 2 httpGet HTTPGetAction; 3 tcpSocket TCPSocketAction;
  4 grpc GRPCAction
ExecAction: 1 command *s
HTTPGetAction: 1 path s; 2 port I; 3 host s; 4 scheme s; 5 httpHeaders *HTTPHeader
HTTPHeader: 1 name s; 2 value s
TCPSocketAction: 1 port I; 2 host s
GRPCAction: 1 port i; 2 service s
Toleration: 1 key s; 2 operator s; 3 value s; 4 effect s; 5 tolerationSeconds i
PodSecurityContext: 2 runAsUser i; 3 runAsNonRoot b; 4 supplementalGroups *i;
  5 fsGroup i; 6 runAsGroup i; 9 fsGroupChangePolicy s
SecurityContext: 1 capabilities Capabilities; 2 privileged b; 4 runAsUser i;
  5 runAsNonRoot b; 6 readOnlyRootFilesystem b; 7 allowPrivilegeEscalation b;
  8 runAsGroup i
Capabilities: 1 add *s; 2 drop *s
Deployment: 1 metadata ObjectMeta; 2 spec DeploymentSpec
DeploymentSpec: 1 replicas i; 2 selector LabelSelector; 3 template PodTemplateSpec;
  4 strategy DeploymentStrategy; 5 minReadySeconds i; 6 revisionHistoryLimit i; 7 paused b;
  9 progressDeadlineSeconds i
DeploymentStrategy: 1 type s; 2 rollingUpdate RollingUpdateDeployment
RollingUpdateDeployment: 1 maxUnavailable I; 2 maxSurge I
Pod: 1 metadata ObjectMeta; 2 spec PodSpec
Service: 1 metadata ObjectMeta; 2 spec ServiceSpec
ServiceSpec: 1 ports *ServicePort; 2 selector M; 3 clusterIP s; 4 type s; 5 externalIPs *s;
  7 sessionAffinity s; 8 loadBalancerIP s; 10 externalName s; 11 externalTrafficPolicy s;
  13 publishNotReadyAddresses b; 17 ipFamilyPolicy s; 18 clusterIPs *s; 19 ipFamilies *s;
  22 internalTrafficPolicy s
ServicePort: 1 name s; 2 protocol s; 3 port i; 4 targetPort I; 5 nodePort i;
  6 appProtocol s
ConfigMap: 1 metadata ObjectMeta; 2 data M; 3 binaryData MB; 4 immutable b
Secret: 1 metadata ObjectMeta; 2 data MB; 3 type s; 4 stringData M; 5 immutable b
"""

Field = tuple[str, str, bool]  # (json name or "-", type, repeated)


def _parse_schema(text: str) -> dict[str, dict[int, Field]]:
    out: dict[str, dict[int, Field]] = {}
    for entry in " ".join(text.split("\n  ")).strip().splitlines():
        name, _, body = entry.partition(":")
        fields: dict[int, Field] = {}
        for part in body.split(";"):
            num, fname, typ = part.split()
            fields[int(num)] = (fname, typ.lstrip("*"), typ.startswith("*"))
        out[name.strip()] = fields
    return out


SCHEMA = _parse_schema(_SCHEMA)


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) for every field of one message."""
    out = []
    i, n = 0, len(buf)
    while i < n:
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            length, i = _varint(buf, i)
            value = buf[i : i + length]
            i += length
        elif wire == 1:
            value = int.from_bytes(buf[i : i + 8], "little")
            i += 8
        elif wire == 5:
            value = int.from_bytes(buf[i : i + 4], "little")
            i += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        out.append((num, wire, value))
    return out


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _time(buf: bytes, micro: bool = False) -> str | None:
    seconds = nanos = 0
    for num, _, v in _fields(buf):
        if num == 1:
            seconds = _signed(v)
        elif num == 2:
            nanos = _signed(v)
    if seconds == 0 and nanos == 0:
        return None
    return micro_ts(seconds + nanos / 1e9) if micro else ts(seconds)


def _scalar(typ: str, wire: int, value: Any) -> Any:
    if typ == "s":
        return value.decode("utf-8", "replace")
    if typ == "y":
        return value
    if typ == "b":
        return bool(value)
    if typ == "i":
        return _signed(value)
    if typ == "T":
        return _time(value)
    if typ == "Q":
        return next((v.decode() for n, _, v in _fields(value) if n == 1), "0")
    if typ == "I":
        kind, ival, sval = 0, 0, ""
        for n, _, v in _fields(value):
            if n == 1:
                kind = v
            elif n == 2:
                ival = _signed(v)
            elif n == 3:
                sval = v.decode()
        return sval if kind == 1 else ival
    raise ValueError(typ)


def _map(value: bytes, typ: str) -> tuple[str, Any]:
    key, val = "", {"MQ": "0"}.get(typ, "")
    for n, _, v in _fields(value):
        if n == 1:
            key = v.decode()
        elif n == 2:
            if typ == "MQ":
                val = _scalar("Q", 2, v)
            elif typ == "MB":
                val = base64.b64encode(v).decode()
            else:
                val = v.decode()
    return key, val


def decode_message(buf: bytes, message: str) -> dict:
    schema = SCHEMA[message]
    out: dict[str, Any] = {}
    for num, wire, value in _fields(buf):
        spec = schema.get(num)
        if spec is None:
            continue  # a field the sim does not know: skipped
        name, typ, repeated = spec
        if typ in ("M", "MQ", "MB"):
            k, v = _map(value, typ)
            out.setdefault(name, {})[k] = v
            continue
        if typ in SCHEMA:
            decoded: Any = decode_message(value, typ)
            if name == "-":
                out.update(decoded)
                continue
        elif typ == "i" and wire == 2 and repeated:  # packed
            items, i = [], 0
            while i < len(value):
                v, i = _varint(value, i)
                items.append(_signed(v))
            out.setdefault(name, []).extend(items)
            continue
        else:
            decoded = _scalar(typ, wire, value)
        if decoded is None or (typ == "s" and decoded == "" and not repeated):
            continue  # Go's omitempty: empty strings and zero times do not appear in JSON
        if repeated:
            out.setdefault(name, []).append(decoded)
        else:
            out[name] = decoded
    if message == "ObjectMeta" and not out.get("generation"):
        out.pop("generation", None)  # a value field: Go always encodes it, JSON omits 0
    return out


def decode(body: bytes) -> dict:
    """A protobuf request body as the JSON object it stands for."""
    if not body.startswith(MAGIC):
        raise ApiError(
            400, "the body of the request is not a Kubernetes protobuf envelope", "BadRequest"
        )
    try:
        envelope = decode_message(body[len(MAGIC) :], "Unknown")
        type_meta = envelope.get("typeMeta") or {}
        kind = type_meta.get("kind", "")
        if kind not in SCHEMA:
            raise ApiError(
                415,
                f"the simulated cluster cannot read {kind or 'this'} in "
                f"protobuf; send application/json",
                "UnsupportedMediaType",
            )
        obj = decode_message(envelope.get("raw") or b"", kind)
    except (IndexError, ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, f"unable to decode protobuf body: {e}", "BadRequest") from e
    obj = {"kind": kind, "apiVersion": type_meta.get("apiVersion", ""), **obj}
    return json.loads(json.dumps(obj))
