"""A hybench checkpoint as a torch.nn.Module.

    model = load_model("results/runs/e1/ffff/s1")       # a run directory: its latest checkpoint
    model = load_model("init.safetensors", dtype=torch.float64)
    logits = model(tokens)                              # (B, T) integer ids -> (B, T, V)
    save_checkpoint(model, "edited.safetensors")        # `hybench forward --ckpt` reads it

The parameters carry the checkpoint's tensor names: model.state_dict() has exactly the keys of
DESIGN.md section 3 ("layers.0.attn.q_proj.weight", ...; model.get_parameter(name) finds one).
The forward pass is hybench.reference's, the independent implementation the engine is checked
against (tests/parity), so its logits equal `hybench forward`'s to float32 rounding.
"""
from collections import OrderedDict

import torch

from . import checkpoint, reference


def _register(root, name, param):
    """Registers `param` under the dotted `name`, creating the empty submodules on the way
    (nn.Module refuses dots in one parameter name)."""
    *path, leaf = name.split(".")
    module = root
    for part in path:
        if not hasattr(module, part):
            module.add_module(part, torch.nn.Module())
        module = getattr(module, part)
    module.register_parameter(leaf, param)


class HybenchModel(torch.nn.Module):
    """The model of one config (a reference.Config), every parameter zero until loaded.

    Attributes kept for save_checkpoint: .config; .metadata, the checkpoint's __metadata__
    (config text, format, training tokens and step; a new model gets config and format);
    .tensor_order, the order of the tensors in the file (the engine's order after load_model)."""

    FORMAT = "hybench-1"  # __metadata__["format"] of the engine's checkpoints (src/engine/model.c)

    def __init__(self, config, dtype=torch.float32, metadata=None, tensor_order=None):
        super().__init__()
        self.config = config
        shapes = reference.param_shapes(config)
        if metadata is None:
            metadata = {"config": "".join(f"{k} = {v}\n" for k, v in config.raw.items()), "format": self.FORMAT}
        self.metadata = OrderedDict(metadata)
        self.tensor_order = list(tensor_order) if tensor_order is not None else list(shapes)
        for name, shape in shapes.items():
            _register(self, name, torch.nn.Parameter(torch.zeros(shape, dtype=dtype)))

    def forward(self, tokens):
        """tokens (B, T): integer ids in [0, vocab), tensor or array. Returns the logits
        (B, T, V) in the parameters' dtype."""
        return reference.forward(self.config, dict(self.named_parameters()), tokens)

    def loss(self, tokens):
        """Mean cross-entropy of logits[:, :-1] predicting tokens[:, 1:], the loss `hybench
        forward` prints and `hybench train` minimises."""
        return reference.next_token_loss(self(tokens), tokens)


def load_model(path_or_run_dir, dtype=torch.float32):
    """Loads a checkpoint, or a run directory's latest (RUN/checkpoints/tokN.safetensors with the
    largest N), into a HybenchModel built from the config in the checkpoint's __metadata__.

    dtype: of the parameters and so of the forward pass. float32 holds the file's values
    exactly; float64 holds them exactly too and computes more precisely. Raises
    hybench.FormatError naming the file and field on a bad checkpoint."""
    cfg, tensors, meta, path = checkpoint.load_checkpoint(path_or_run_dir)
    model = HybenchModel(cfg, dtype=dtype, metadata=meta, tensor_order=tensors.keys())
    with torch.no_grad():
        for name, array in tensors.items():
            model.get_parameter(name).copy_(torch.from_numpy(array))
    model.checkpoint_path = path
    return model


def save_checkpoint(model, path):
    """Writes a HybenchModel as a hybench checkpoint: float32 tensors (float64 parameters are
    rounded) in model.tensor_order, model.metadata as __metadata__. A model loaded with
    load_model and saved unchanged gives the file's own bytes. Written to a temporary name,
    then renamed."""
    params = dict(model.named_parameters())
    problems = reference.check_params(model.config, params)
    if problems or sorted(model.tensor_order) != sorted(params):
        raise ValueError("save_checkpoint: the model does not match its config: "
                         + "; ".join(problems or ["tensor_order does not list every parameter once"]))
    tensors = OrderedDict((name, params[name].detach().cpu().to(torch.float32).numpy())
                          for name in model.tensor_order)
    checkpoint.write_safetensors(path, tensors, model.metadata)
