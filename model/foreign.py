"""ResNet18s trained elsewhere -> the tensors and head description that model/export.py writes.

    import foreign
    body, head = foreign.load("their.pth")      # or an .onnx file
    tensors, head_meta, labels = foreign.canonical(body, head, labels=["Parasitized", "Uninfected"],
                                                   positive="Parasitized")

Sources understood:
  * a torchvision ResNet18 state_dict (plain, or wrapped as {'model': sd | module},
    {'state_dict': sd} (Lightning, 'model.' keys), {'model_state_dict': sd}, with 'module.' or
    '_orig_mod.' keys), with 2 or more outputs, or 1 (a sigmoid: exported as the logits [0, z]);
  * a fast.ai v1 `cnn_learner` / v2 `vision_learner` checkpoint (`learn.save()` ->
    {'model': sd, 'opt': ...}, or `torch.save(learn.model.state_dict())`): the body under `0.*`
    (0.0 conv1, 0.1 bn1, 0.4-0.7 layer1-4), the head under `1.*` as fast.ai's create_head builds
    it: [AdaptiveConcatPool2d | AdaptiveAvgPool2d], Flatten, then per linear layer
    [BatchNorm1d], [Dropout], Linear, ReLU between linear layers, [BatchNorm1d] (bn_final).
    v1 (bn_drop_lin) gives its Linear layers a bias, v2 (LinBnDrop) none after a BatchNorm;
    `first_bn=False`, `lin_ftrs=[]` or one other hidden size work too (`lin_first=True` adds
    a third linear layer and is refused); fast.ai >= 2.7 with a timm body (`0.model.*`);
  * an ONNX export (torch.onnx) of either: the graph's initializers are mapped onto the same
    names, and the graph is checked by running it (a small evaluator of the ops torch.onnx emits
    for these models) against the mapped model.

The head is described as a list of ops, ("bn", {weight, bias, running_mean, running_var}) and
("linear", {weight, bias?}), in order; a ReLU follows every linear layer but the last. The
engine runs 1 or 2 linear layers; every BatchNorm1d is folded by malaria-convert into the linear
layer after it (or, a final one, into the last linear layer).

Every refusal is a ValueError whose message says what was found and what to do.
"""
import os
import re

import numpy as np

# torchvision ResNet18 conv / bn names in state_dict order (= the order a traced graph runs them)
CONVS = ["conv1"]
for _s in range(1, 5):
    for _b in range(2):
        CONVS += [f"layer{_s}.{_b}.conv1", f"layer{_s}.{_b}.conv2"]
        if _b == 0 and _s > 1:
            CONVS.append(f"layer{_s}.{_b}.downsample.0")
BNS = [
    "bn1"
    if c == "conv1"
    else c[:-1] + "1"
    if c.endswith("downsample.0")
    else c.replace("conv", "bn")
    for c in CONVS
]
FASTAI_BODY = {
    "0.0.": "conv1.",
    "0.1.": "bn1.",
    "0.4.": "layer1.",
    "0.5.": "layer2.",
    "0.6.": "layer3.",
    "0.7.": "layer4.",
}
BN_PARTS = ("weight", "bias", "running_mean", "running_var")
MAX_CLASSES = 64
EXPORT_PKL_HELP = (
    "save the weights instead, in the notebook where the learner is: "
    "torch.save(learn.model.state_dict(), 'model.pth') (or learn.save('model'), which "
    "writes models/model.pth), then pass that .pth"
)


def _np(v):
    return (
        v.detach().cpu().float().numpy()
        if hasattr(v, "detach")
        else np.asarray(v, dtype=np.float32)
    )


# ------------------------------------------------------------------------------------------------
# reading a file


def load(path):
    """path (.pth/.pt/.pkl or .onnx) -> (body, head): body = {torchvision name: array} of the 20
    convs and their BatchNorms, head = {"ops": [...], "pooling": "avg"|"concat-max-avg" or None
    (inferred from the first layer's width), "source": "torchvision"|"fastai"|"onnx"}."""
    with open(path, "rb") as f:
        magic = f.read(8)
    if path.lower().endswith(".onnx"):
        return load_onnx(path)
    return from_state_dict(_torch_load(path, magic))


def _torch_load(path, magic):
    import pickle
    import torch

    try:
        return torch.load(path, map_location="cpu")
    except (ModuleNotFoundError, AttributeError) as e:
        if "fastai" in str(e) or os.path.basename(path) == "export.pkl":
            raise ValueError(
                f"{path} is a pickled fast.ai Learner (learn.export()), which needs fastai "
                f"to unpickle ({e}); {EXPORT_PKL_HELP}"
            ) from None
        raise ValueError(
            f"{path}: cannot unpickle a class it refers to ({e}); save a state_dict "
            f"instead: torch.save(model.state_dict(), 'model.pth')"
        ) from None
    except (pickle.UnpicklingError, RuntimeError, EOFError) as e:
        if magic[:4] == b"\x08\x00\x12\x00" or (magic[:1] == b"\x08" and 3 <= magic[1] <= 12):
            raise ValueError(f"{path}: looks like an ONNX file: name it .onnx") from None
        raise ValueError(f"{path} is not a PyTorch checkpoint torch.load can read ({e})") from None


def from_state_dict(obj):
    import torch

    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    # the wrappers training loops save: {'model': ...} (fast.ai's learn.save, or a module),
    # {'state_dict': ...} (Lightning), {'model_state_dict': ...} (PyTorch's tutorial)
    for key in ("model", "state_dict", "model_state_dict"):
        if isinstance(obj, dict) and key in obj:
            if isinstance(obj[key], torch.nn.Module):
                obj[key] = obj[key].state_dict()
            if isinstance(obj[key], dict):
                obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(k, str) for k in obj):
        if type(obj).__name__ == "Learner":
            raise ValueError(
                f"this is a pickled fast.ai Learner, not a state_dict; {EXPORT_PKL_HELP}"
            )
        raise ValueError(
            f"the checkpoint holds a {type(obj).__name__}, not a state_dict "
            "(nor {'model': state_dict})"
        )
    sd = {}
    for k, v in obj.items():
        if k.endswith("num_batches_tracked") or not hasattr(v, "shape"):
            continue
        sd[k] = v
    # prefixes that wrap the whole model: DataParallel's 'module.', torch.compile's '_orig_mod.',
    # a Lightning module's attribute ('model.'); fast.ai >= 2.7 with timm: its body '0.model.'
    for pre in ("module.", "_orig_mod.", "model."):
        if sd and all(k.startswith(pre) for k in sd):
            sd = {k[len(pre) :]: v for k, v in sd.items()}
    if any(k.startswith("0.model.") for k in sd):
        sd = {
            ("0." + k[len("0.model.") :] if k.startswith("0.model.") else k): v
            for k, v in sd.items()
        }
        timm = True
    else:
        timm = False
    fastai = any(k.startswith("0.") for k in sd) and any(k.startswith("1.") for k in sd)
    if fastai:
        body, head_sd = {}, {}
        for k, v in sd.items():
            if k.startswith("1."):
                head_sd[k[2:]] = v
                continue
            if timm:  # timm's resnet18 has torchvision's names under the body
                k = k[2:]
            else:
                for a, b in FASTAI_BODY.items():
                    if k.startswith(a):
                        k = b + k[len(a) :]
                        break
            body[k] = v
        head = {"ops": _fastai_head_ops(head_sd), "pooling": None, "source": "fastai"}
    else:
        body = {k: v for k, v in sd.items() if not k.startswith("fc.")}
        if "fc.weight" not in sd:
            _check_architecture(body)
            raise ValueError(
                "no classifier found: neither torchvision's 'fc.weight' nor a fast.ai head "
                "under '1.*' (is this a backbone only?)"
            )
        ops = [
            (
                "linear",
                {"weight": sd["fc.weight"], **({"bias": sd["fc.bias"]} if "fc.bias" in sd else {})},
            )
        ]
        head = {"ops": ops, "pooling": "avg", "source": "torchvision"}
    _check_architecture(body)
    return {k: _np(v) for k, v in body.items()}, {
        **head,
        "ops": [(kind, {k: _np(v) for k, v in p.items()}) for kind, p in head["ops"]],
    }


def _fastai_head_ops(head_sd):
    """{'2.weight': ..., '2.running_mean': ..., '4.weight': ...} -> ops in index order."""
    groups = {}
    for k, v in head_sd.items():
        m = re.match(r"^(\d+)\.(.+)$", k)
        if not m:
            raise ValueError(
                f"head tensor '1.{k}' is not in fast.ai's head layout (1.<index>.<param>)"
            )
        groups.setdefault(int(m.group(1)), {})[m.group(2)] = v
    ops = []
    for i in sorted(groups):
        p = groups[i]
        if set(p) == set(BN_PARTS):
            ops.append(("bn", p))
        elif "weight" in p and p["weight"].dim() == 2 and set(p) <= {"weight", "bias"}:
            ops.append(("linear", p))
        else:
            raise ValueError(
                f"head layer 1.{i} ({', '.join(sorted(p))}) is neither a BatchNorm1d nor a "
                "Linear layer: only fast.ai's create_head (cnn_learner / vision_learner) "
                "is supported"
            )
    return ops


def _check_architecture(body):
    """Refuse other ResNets (and anything else) by what the body holds."""
    blocks = {}
    for k in body:
        m = re.match(r"^layer(\d)\.(\d+)\.", k)
        if m:
            blocks.setdefault(int(m.group(1)), set()).add(int(m.group(2)))
    counts = [len(blocks.get(s, ())) for s in range(1, 5)]
    bottleneck = any(re.match(r"^layer\d\.\d+\.conv3\.weight$", k) for k in body)
    known = {
        (2, 2, 2, 2): "ResNet18",
        (3, 4, 6, 3): "ResNet34" if not bottleneck else "ResNet50",
        (3, 4, 23, 3): "ResNet101",
        (3, 8, 36, 3): "ResNet152",
    }
    if bottleneck or counts != [2, 2, 2, 2]:
        name = known.get(tuple(counts), None)
        if bottleneck and name == "ResNet34":
            name = "ResNet50"
        what = (
            (f"a {name}" if name else "not a ResNet18")
            + f" ({'/'.join(map(str, counts))} blocks in its 4 stages"
            + (", Bottleneck blocks with conv3" if bottleneck else "")
            + ")"
        )
        if counts == [0, 0, 0, 0]:
            what = "not a ResNet (no layer1..layer4 tensors)"
        raise ValueError(
            f"this checkpoint is {what}; only ResNet18 is supported (2/2/2/2 BasicBlocks): "
            "train with torchvision's resnet18 (fast.ai: cnn_learner/vision_learner(dls, "
            "resnet18))"
        )
    import torchvision

    want = torchvision.models.resnet18(weights=None).state_dict()
    missing = [
        k
        for k in want
        if not k.startswith("fc.") and not k.endswith("num_batches_tracked") and k not in body
    ]
    if missing:
        raise ValueError(
            f"not a complete ResNet18 body: missing {', '.join(missing[:5])}"
            f"{f' and {len(missing) - 5} more' if len(missing) > 5 else ''}"
        )
    for k, v in body.items():
        if k not in want:
            raise ValueError(
                f"unexpected tensor '{k}' in the body (not part of a torchvision ResNet18)"
            )
        if tuple(v.shape) != tuple(want[k].shape):
            raise ValueError(
                f"tensor {k} has shape {tuple(v.shape)}, expected {tuple(want[k].shape)} "
                "(a ResNet18 with 3-channel input)"
            )


# ------------------------------------------------------------------------------------------------
# the canonical form written for malaria-convert


def canonical(body, head, labels=None, positive=None):
    """-> (tensors {name: float32 array}, head_meta or None, labels). head_meta None: torchvision's
    2-class fc with the default labels (a format version 1 blob, as before)."""
    ops = head["ops"]
    linears = [i for i, (k, _) in enumerate(ops) if k == "linear"]
    if not linears:
        raise ValueError("the head has no linear layer")
    if len(linears) > 2:
        raise ValueError(
            f"the head has {len(linears)} linear layers; the engine runs 1 or 2 (fast.ai's "
            "default lin_ftrs=[512], or lin_ftrs=[])"
        )
    for a, b in zip(ops, ops[1:]):
        if a[0] == "bn" and b[0] == "bn":
            raise ValueError(
                "the head has two BatchNorm1d layers in a row: not fast.ai's create_head"
            )
    first = ops[linears[0]][1]["weight"]
    F = first.shape[1]
    pooling = head.get("pooling") or {512: "avg", 1024: "concat-max-avg"}.get(F)
    if pooling is None or F != {"avg": 512, "concat-max-avg": 1024}[pooling]:
        raise ValueError(
            f"the head's first linear layer takes {F} features; a ResNet18 gives 512 "
            "(average pool) or 1024 (fast.ai's concat pool)"
        )
    last = ops[linears[-1]][1]["weight"]
    N = last.shape[0]
    if len(linears) == 2 and ops[linears[1]][1]["weight"].shape[1] != first.shape[0]:
        raise ValueError(
            f"the head's linear layers do not chain: {tuple(first.shape)} then "
            f"{tuple(ops[linears[1]][1]['weight'].shape)}"
        )
    if labels is None:
        if N == 1000:
            raise ValueError(
                "the head has 1000 outputs, as ImageNet's classifier: this looks like an "
                "ImageNet-pretrained ResNet18 that was not fine-tuned on cells. Fine-tune it "
                "with a 2-class head, or name its outputs with --labels and the parasitized "
                "one with --positive"
            )
        # never a default order: torchvision's ImageFolder and fast.ai sort the class folders
        # (Parasitized first for the NIH set), other code does not; a wrong guess would invert
        # every call
        raise ValueError(
            f"the head has {N} output{'s' if N != 1 else ''}: name the classes in the order of "
            "the model's outputs with --labels A,B,... (torchvision's ImageFolder and fast.ai "
            "sort the class folders: --labels Parasitized,Uninfected for the NIH folders; "
            "fast.ai: the learner's dls.vocab) and the parasitized class with --positive"
        )
    if N == 1:
        # one output trained with a sigmoid (BCEWithLogitsLoss on the class indices 0 / 1): it is
        # the logit of the second class. As two logits [0, z]: softmax gives sigmoid(z) exactly.
        if len(labels) != 2:
            raise ValueError(
                "the head has 1 output (a sigmoid): name the two classes in the order of their "
                "indices in training with --labels A,B (the output is B's logit)"
            )
        i = linears[-1]
        p = ops[i][1]
        w = np.asarray(p["weight"], dtype=np.float32)
        b = np.asarray(p["bias"], dtype=np.float32) if "bias" in p else np.zeros(1, np.float32)
        ops = list(ops)
        ops[i] = (
            "linear",
            {"weight": np.concatenate([np.zeros_like(w), w]), "bias": np.concatenate([[0], b])},
        )
        head = {**head, "ops": ops}
        N = 2
    if len(labels) != N:
        raise ValueError(f"--labels names {len(labels)} classes but the head has {N} outputs")
    if N > MAX_CLASSES:
        raise ValueError(f"the head has {N} classes; the engine takes at most {MAX_CLASSES}")
    if len(set(labels)) != len(labels) or not all(labels):
        raise ValueError("--labels: every class needs a distinct, non-empty name")
    if positive is None:
        if "Parasitized" not in labels:
            raise ValueError(
                f"which class is parasitized? none of {labels} is 'Parasitized': "
                "give --positive NAME"
            )
        positive = "Parasitized"
    if positive not in labels:
        raise ValueError(f"--positive '{positive}' is not one of the labels {labels}")
    pos = labels.index(positive)

    tensors = {k: np.asarray(v, dtype=np.float32) for k, v in body.items()}
    v1 = (
        head["source"] == "torchvision"
        and labels == ["Uninfected", "Parasitized"]
        and pos == 1
        and N == 2
    )
    if v1 or (head["source"] == "torchvision" and len(ops) == 1):
        p = ops[0][1]
        tensors["fc.weight"] = p["weight"]
        tensors["fc.bias"] = p["bias"] if "bias" in p else np.zeros(N, np.float32)
    else:
        pending, k = None, 0
        for kind, p in ops:
            if kind == "bn":
                pending = p
                continue
            k += 1
            if pending is not None:
                for part in BN_PARTS:
                    tensors[f"head.bn{k}.{part}"] = pending[part]
            pending = None
            tensors[f"head.fc{k}.weight"] = p["weight"]
            if "bias" in p:
                tensors[f"head.fc{k}.bias"] = p["bias"]
        if pending is not None:
            for part in BN_PARTS:
                tensors[f"head.bn_final.{part}"] = pending[part]
    head_meta = (
        None
        if v1
        else {"kind": "mlp" if len(linears) == 2 else "linear", "pooling": pooling, "positive": pos}
    )
    return tensors, head_meta, labels


def build_torch(tensors, head_meta):
    """A torch module computing what the blob computes, from the canonical tensors (the parity
    reference for converted models; BatchNorm1d unfolded, eval mode)."""
    import torch
    import torchvision

    nn = torch.nn
    N = (
        tensors.get("fc.weight")
        if "fc.weight" in tensors
        else tensors.get("head.fc2.weight", tensors.get("head.fc1.weight"))
    ).shape[0]
    body = torchvision.models.resnet18(weights=None, num_classes=N)
    pooling = (head_meta or {}).get("pooling", "avg")
    layers = [nn.AdaptiveAvgPool2d(1)] if pooling == "avg" else [_ConcatPool()]
    layers.append(nn.Flatten())
    sd = {k: torch.from_numpy(np.asarray(v)) for k, v in tensors.items()}
    if "fc.weight" in sd:
        lin = nn.Linear(sd["fc.weight"].shape[1], N)
        lin.weight.data.copy_(sd["fc.weight"])
        lin.bias.data.copy_(sd["fc.bias"])
        layers.append(lin)
    else:
        k = 1
        while f"head.fc{k}.weight" in sd:
            w = sd[f"head.fc{k}.weight"]
            if k > 1:
                layers.append(nn.ReLU())
            if f"head.bn{k}.weight" in sd:
                layers.append(_bn1d(sd, f"head.bn{k}", w.shape[1]))
            lin = nn.Linear(w.shape[1], w.shape[0], bias=f"head.fc{k}.bias" in sd)
            lin.weight.data.copy_(w)
            if lin.bias is not None:
                lin.bias.data.copy_(sd[f"head.fc{k}.bias"])
            layers.append(lin)
            k += 1
        if "head.bn_final.weight" in sd:
            layers.append(_bn1d(sd, "head.bn_final", N))
    body.fc = nn.Identity()
    body.avgpool = nn.Identity()
    body.load_state_dict(
        {k: v for k, v in sd.items() if not k.startswith(("head.", "fc."))}, strict=False
    )

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.head = body, nn.Sequential(*layers)

        def forward(self, x):
            b = self.body
            x = b.maxpool(b.relu(b.bn1(b.conv1(x))))
            x = b.layer4(b.layer3(b.layer2(b.layer1(x))))
            return self.head(x)

    return Net().eval()


def _bn1d(sd, name, n):
    import torch

    bn = torch.nn.BatchNorm1d(n)
    for part in BN_PARTS:
        getattr(bn, part).data.copy_(sd[f"{name}.{part}"])
    return bn


def _concat_pool_module():
    import torch

    class ConcatPool(torch.nn.Module):  # fast.ai's AdaptiveConcatPool2d: [max, avg]
        def forward(self, x):
            return torch.cat(
                [torch.amax(x, dim=(2, 3), keepdim=True), torch.mean(x, dim=(2, 3), keepdim=True)],
                1,
            )

    return ConcatPool


def _ConcatPool():
    return _concat_pool_module()()


# ------------------------------------------------------------------------------------------------
# ONNX

ONNX_OPS = {
    "Conv",
    "BatchNormalization",
    "Relu",
    "MaxPool",
    "AveragePool",
    "Add",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "ReduceMean",
    "ReduceMax",
    "Concat",
    "Flatten",
    "Reshape",
    "Gemm",
    "MatMul",
    "Dropout",
    "Identity",
    "Constant",
    "Shape",
    "Gather",
    "Unsqueeze",
    "Squeeze",
    "Transpose",
}
# the head's pools: torch.onnx writes AdaptiveAvgPool2d(1) / AdaptiveMaxPool2d(1) as global pools,
# or, for a fixed input size, as pools whose kernel covers the last features
MAX_POOLS, AVG_POOLS = {"GlobalMaxPool", "ReduceMax", "MaxPool"}, {
    "GlobalAveragePool",
    "ReduceMean",
    "AveragePool",
}


def load_onnx(path):
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise ValueError(
            "reading ONNX needs the onnx package (Debian: apt-get install python3-onnx)"
        ) from None
    try:
        model = onnx.load(path)
    except Exception as e:  # noqa: BLE001 (protobuf raises several kinds)
        raise ValueError(f"{path} is not an ONNX model onnx can read ({e})") from None
    g = model.graph
    init = {
        t.name: numpy_helper.to_array(t).astype(np.float32)
        if t.data_type == 1
        else numpy_helper.to_array(t)
        for t in g.initializer
    }
    consts = {}
    for n in g.node:
        if n.op_type not in ONNX_OPS:
            raise ValueError(
                f"unsupported ONNX node '{n.name or n.output[0]}' (op {n.op_type}): the graph is "
                "not a ResNet18 as torch.onnx exports it (torchvision's, or with fast.ai's head)"
            )
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        if n.op_type == "Transpose" and n.input[0] in init:  # a Linear's weight, not folded
            perm = [a.ints for a in n.attribute if a.name == "perm"]
            init[n.output[0]] = np.ascontiguousarray(
                np.transpose(init[n.input[0]], list(perm[0]) if perm else None)
            )
    producer = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def attr(n, name, default=None):
        for a in n.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    def bn_params(n):
        w, b, m, v = (init[x] for x in n.input[1:5])
        eps = attr(n, "epsilon", 1e-5)
        # var + eps is what BatchNorm uses: move the graph's eps into var so that eps = 1e-5 holds
        return {
            "weight": w,
            "bias": b,
            "running_mean": m,
            "running_var": (v.astype(np.float64) + eps - 1e-5).astype(np.float32),
        }

    convs = [n for n in g.node if n.op_type == "Conv"]
    if len(convs) != len(CONVS):
        first_extra = convs[len(CONVS)] if len(convs) > len(CONVS) else None
        raise ValueError(
            f"the ONNX graph has {len(convs)} Conv nodes; a ResNet18 has 20"
            + (f" (the 21st: '{first_extra.name}')" if first_extra else "")
            + ": only ResNet18 is supported"
        )
    body = {}
    for name, bn, n in zip(CONVS, BNS, convs):
        w = init.get(n.input[1])
        if w is None:
            raise ValueError(f"ONNX node '{n.name}': its weight is not an initializer")
        body[name + ".weight"] = w
        nxt = consumers.get(n.output[0], [])
        if len(nxt) == 1 and nxt[0].op_type == "BatchNormalization":
            body.update({f"{bn}.{k}": v for k, v in bn_params(nxt[0]).items()})
            if len(n.input) > 2:
                raise ValueError(
                    f"ONNX node '{n.name}': a Conv with a bias before a BatchNormalization"
                )
        else:  # BatchNorm folded by torch.onnx (eval export): the conv's bias is the folded shift
            oc = w.shape[0]
            bias = init[n.input[2]] if len(n.input) > 2 else np.zeros(oc, np.float32)
            body.update(
                {
                    f"{bn}.weight": np.ones(oc, np.float32),
                    f"{bn}.bias": bias,
                    f"{bn}.running_mean": np.zeros(oc, np.float32),
                    f"{bn}.running_var": np.full(oc, 1 - 1e-5, np.float32),
                }
            )
    # the head: every node after the last conv's block, in graph order
    last_conv_i = max(i for i, n in enumerate(g.node) if n.op_type == "Conv")
    ops, pooling, saw = [], None, set()
    for n in g.node[last_conv_i + 1 :]:
        t = n.op_type
        saw.add(t)
        if (
            t == "BatchNormalization"
            and "Gemm" not in saw
            and "MatMul" not in saw
            and not saw & (AVG_POOLS | MAX_POOLS)
        ):
            continue  # layer4's last bn2
        if t == "BatchNormalization":
            ops.append(("bn", bn_params(n)))
        elif t == "Gemm":
            w = init.get(n.input[1])
            if w is None:
                raise ValueError(f"ONNX node '{n.name}': Gemm weight is not an initializer")
            if attr(n, "transB", 0) == 0:
                w = w.T
            if attr(n, "alpha", 1.0) != 1.0 or attr(n, "beta", 1.0) != 1.0 or attr(n, "transA", 0):
                raise ValueError(f"unsupported ONNX node '{n.name}' (Gemm with alpha/beta/transA)")
            p = {"weight": np.ascontiguousarray(w)}
            if len(n.input) > 2:
                p["bias"] = init[n.input[2]]
            ops.append(("linear", p))
        elif t == "MatMul":
            w = init.get(n.input[1])
            if w is None:
                raise ValueError(f"ONNX node '{n.name}': MatMul weight is not an initializer")
            p = {"weight": np.ascontiguousarray(w.T)}
            nx = consumers.get(n.output[0], [])
            if len(nx) == 1 and nx[0].op_type == "Add":
                b = init.get(nx[0].input[1], init.get(nx[0].input[0]))
                if b is not None:
                    p["bias"] = b
            ops.append(("linear", p))
        elif t == "Concat":
            kinds = [producer[i].op_type if i in producer else "?" for i in n.input]
            if len(kinds) == 2 and kinds[0] in MAX_POOLS and kinds[1] in AVG_POOLS:
                pooling = "concat-max-avg"
        elif (
            t in AVG_POOLS
            and pooling is None
            and not any(c.op_type == "Concat" for c in consumers.get(n.output[0], []))
        ):
            pooling = "avg"
    if saw & MAX_POOLS and pooling != "concat-max-avg":
        raise ValueError(
            "the ONNX graph's pooling is neither average nor fast.ai's [max, avg] concat"
        )
    source = (
        "torchvision"
        if len([o for o in ops if o[0] == "linear"]) == 1
        and not any(o[0] == "bn" for o in ops)
        and pooling == "avg"
        else "onnx"
    )
    head = {"ops": ops, "pooling": pooling, "source": source}
    dims = [d.dim_value for d in g.input[0].type.tensor_type.shape.dim]
    if len(dims) == 4 and dims[2] > 0 and dims[2] == dims[3]:
        head["input_size"] = dims[2]  # exported at a fixed size: export.py checks --size
    _check_architecture(body)
    _check_onnx_equivalent(model, body, head)
    return body, head


def _check_onnx_equivalent(model, body, head):
    """Run the ONNX graph (a small evaluator) and the mapped model on the same random input: a
    graph wired otherwise than a ResNet18 (a skipped residual, another order) differs."""
    import torch

    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    S = dims[2] if len(dims) == 4 and dims[2] > 0 else 64  # the size it was exported at
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((2, 3, S, S)).astype(np.float32))
    got = _run_onnx(model, x)
    ops = head["ops"]
    n_out = [p for k, p in ops if k == "linear"][-1]["weight"].shape[0]
    tensors, head_meta, _ = canonical(
        body, head, labels=[f"c{i}" for i in range(n_out)], positive="c0"
    )
    with torch.no_grad():
        ref = build_torch(tensors, head_meta)(x).numpy()
    err = float(np.abs(got - ref).max()) / max(1.0, float(np.abs(ref).max()))
    if not np.isfinite(err) or err > 1e-4:
        raise ValueError(
            f"the ONNX graph is not wired as a ResNet18 with this head: mapped onto one, it "
            f"gives other outputs (relative difference {err:.3g})"
        )


def _run_onnx(model, x):
    import torch
    import torch.nn.functional as Fn
    from onnx import helper, numpy_helper

    g = model.graph
    env = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in g.initializer}
    inputs = [i.name for i in g.input if i.name not in env]
    env[inputs[0]] = x

    def attr(n, name, default=None):
        for a in n.attribute:
            if a.name == name:
                return helper.get_attribute_value(a)
        return default

    with torch.no_grad():
        for n in g.node:
            a = [env[i] if i else None for i in n.input]
            t = n.op_type
            if t == "Conv":
                pads = attr(n, "pads", [0, 0, 0, 0])
                if pads[0] != pads[2] or pads[1] != pads[3]:
                    raise ValueError(f"unsupported ONNX node '{n.name}' (asymmetric padding)")
                y = Fn.conv2d(
                    a[0],
                    a[1],
                    a[2] if len(a) > 2 else None,
                    stride=attr(n, "strides", [1, 1]),
                    padding=pads[:2],
                    dilation=attr(n, "dilations", [1, 1]),
                    groups=attr(n, "group", 1),
                )
            elif t == "BatchNormalization":
                y = Fn.batch_norm(
                    a[0], a[3], a[4], a[1], a[2], False, 0.0, attr(n, "epsilon", 1e-5)
                )
            elif t == "Relu":
                y = torch.relu(a[0])
            elif t == "MaxPool":
                pads = attr(n, "pads", [0, 0, 0, 0])
                y = Fn.max_pool2d(
                    a[0],
                    attr(n, "kernel_shape"),
                    attr(n, "strides", [1, 1]),
                    pads[:2],
                    ceil_mode=bool(attr(n, "ceil_mode", 0)),
                )
            elif t == "AveragePool":
                pads = attr(n, "pads", [0, 0, 0, 0])
                y = Fn.avg_pool2d(
                    a[0],
                    attr(n, "kernel_shape"),
                    attr(n, "strides", [1, 1]),
                    pads[:2],
                    ceil_mode=bool(attr(n, "ceil_mode", 0)),
                    count_include_pad=bool(attr(n, "count_include_pad", 0)),
                )
            elif t == "Transpose":
                perm = attr(n, "perm")
                y = a[0].permute(*perm) if perm else a[0].permute(*reversed(range(a[0].dim())))
            elif t == "Add":
                y = a[0] + a[1]
            elif t == "GlobalAveragePool":
                y = a[0].mean(dim=(2, 3), keepdim=True)
            elif t == "GlobalMaxPool":
                y = a[0].amax(dim=(2, 3), keepdim=True)
            elif t in ("ReduceMean", "ReduceMax"):
                axes = attr(n, "axes") or (a[1].tolist() if len(a) > 1 else None)
                keep = bool(attr(n, "keepdims", 1))
                y = (
                    a[0].mean(dim=axes, keepdim=keep)
                    if t == "ReduceMean"
                    else a[0].amax(dim=axes, keepdim=keep)
                )
            elif t == "Concat":
                y = torch.cat(a, dim=attr(n, "axis"))
            elif t == "Flatten":
                ax = attr(n, "axis", 1)
                y = a[0].reshape(int(np.prod(a[0].shape[:ax])), -1)
            elif t == "Reshape":
                y = a[0].reshape(
                    [int(s) if s != 0 else a[0].shape[i] for i, s in enumerate(a[1].tolist())]
                )
            elif t == "Gemm":
                A = a[0].T if attr(n, "transA", 0) else a[0]
                B = a[1].T if attr(n, "transB", 0) else a[1]
                y = attr(n, "alpha", 1.0) * A @ B
                if len(a) > 2 and a[2] is not None:
                    y = y + attr(n, "beta", 1.0) * a[2]
            elif t == "MatMul":
                y = a[0] @ a[1]
            elif t in ("Dropout", "Identity"):
                y = a[0]
            elif t == "Constant":
                y = torch.from_numpy(numpy_helper.to_array(n.attribute[0].t).copy())
            elif t == "Shape":
                y = torch.tensor(list(a[0].shape), dtype=torch.int64)
            elif t == "Gather":
                y = torch.index_select(a[0], attr(n, "axis", 0), a[1].reshape(-1).long())
                if a[1].dim() == 0:
                    y = y.squeeze(attr(n, "axis", 0))
            elif t == "Unsqueeze":
                axes = attr(n, "axes") or a[1].tolist()
                y = a[0]
                for ax in sorted(axes):
                    y = y.unsqueeze(ax)
            elif t == "Squeeze":
                axes = attr(n, "axes") or (a[1].tolist() if len(a) > 1 else None)
                y = a[0].squeeze() if axes is None else a[0]
                if axes is not None:
                    for ax in sorted(axes, reverse=True):
                        y = y.squeeze(ax)
            else:
                raise ValueError(f"unsupported ONNX node '{n.name}' (op {t})")
            env[n.output[0]] = y
    return env[g.output[0].name].numpy()
