"""Training recipes: how ``mox train`` trains a network when the user names nothing but data.

A :class:`Recipe` is a network's default training settings, kept in its registry record
(``NetworkSpec.recipe``) beside its builder and preprocessing, as timm keeps a model's
``default_cfg`` and TF-Slim publishes each net's training flags: the optimizer, a base learning
rate for a reference batch (scaled linearly to the batch actually used), warm-up, the schedule
(cosine or piecewise, both as fractions of the run so a 600-step try and a 90-epoch job decay
alike), weight decay, label smoothing where the network's paper used it, and the default
epochs, batch and image size. Fine-tuning from a checkpoint scales the rate by
``fine_tune_rate``.

:func:`plan` combines a recipe with what the user gave on the command line into a
:class:`TrainingPlan`, the settings a run uses, whose :meth:`TrainingPlan.describe` is the one
line ``mox train`` prints. Networks without a recipe get :data:`GENERIC`. Importing this module
imports no TensorFlow; :meth:`TrainingPlan.learning_rate` builds the rate tensor.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from mox_core.utils.checks import finite_number

#: the schedules a recipe can name
SCHEDULES = ("cosine", "piecewise", "constant")
#: the learning rate an optimizer gets when the user picks it over the recipe's without a rate
STANDARD_RATES = {"adam": 0.001, "rmsprop": 0.001, "adadelta": 1.0, "adagrad": 0.01,
                  "ftrl": 0.01, "momentum": 0.01, "sgd": 0.01}
#: warm-up never takes more than this share of a run, however short the run
MAX_WARMUP_SHARE = 0.2


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A network's default training settings (see the module docstring).

    ``learning_rate`` is the peak rate at ``reference_batch`` images per step; a run with a
    global batch ``B`` uses ``learning_rate * B / reference_batch``. ``boundaries`` (piecewise
    only) are fractions of the run at which the rate is multiplied by ``decay``.
    ``optimizer_options`` are keyword arguments of the registered optimizer (``momentum``).
    ``source`` says where the settings come from; it is shown by ``mox nets NAME``.
    """

    optimizer: str = "momentum"
    optimizer_options: tuple[tuple[str, Any], ...] = (("momentum", 0.9),)
    learning_rate: float = 0.1
    reference_batch: int = 256
    warmup_epochs: float = 1.0
    schedule: str = "cosine"
    boundaries: tuple[float, ...] = ()
    decay: float = 0.1
    weight_decay: float = 0.0001
    label_smoothing: float = 0.0
    epochs: int = 30
    batch_size: int = 32
    image_size: int | None = None
    fine_tune_rate: float = 0.1
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.optimizer, str) or not self.optimizer:
            raise ValueError(f"Recipe optimizer must be a registered optimizer's name, got "
                             f"{self.optimizer!r}")
        if not isinstance(self.optimizer_options, tuple) or not all(
                isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                for item in self.optimizer_options):
            raise ValueError(f"Recipe optimizer_options must be a tuple of (keyword, value) "
                             f"pairs, got {self.optimizer_options!r}")
        finite_number("Recipe learning_rate", self.learning_rate)
        finite_number("Recipe warmup_epochs", self.warmup_epochs, zero=True)
        finite_number("Recipe weight_decay", self.weight_decay, zero=True)
        finite_number("Recipe fine_tune_rate", self.fine_tune_rate)
        for field in ("reference_batch", "epochs", "batch_size"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Recipe {field} must be a whole number >= 1, got {value!r}")
        if self.image_size is not None and (isinstance(self.image_size, bool) or not isinstance(
                self.image_size, int) or self.image_size < 1):
            raise ValueError(f"Recipe image_size must be None (the network's default size) or "
                             f"a whole number of pixels >= 1, got {self.image_size!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"Recipe schedule must be one of {', '.join(SCHEDULES)}, got "
                             f"{self.schedule!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"Recipe label_smoothing must be in [0, 1), got "
                             f"{self.label_smoothing!r}")
        if not 0.0 < self.decay < 1.0:
            raise ValueError(f"Recipe decay must be in (0, 1), got {self.decay!r}")
        if list(self.boundaries) != sorted(self.boundaries) or any(
                not 0.0 < b < 1.0 for b in self.boundaries):
            raise ValueError(f"Recipe boundaries must be increasing fractions of the run in "
                             f"(0, 1), got {self.boundaries!r}")
        if self.schedule == "piecewise" and not self.boundaries:
            raise ValueError("Recipe schedule 'piecewise' needs boundaries, e.g. (0.5, 0.75)")

    def summary(self) -> str:
        """The recipe in one line, for ``mox nets NAME``."""
        options = _options_words(self.optimizer_options)
        size = f", image {self.image_size}" if self.image_size else ""
        return (f"{self.optimizer}{options}, lr {self.learning_rate:g} per "
                f"{self.reference_batch} images, warm-up {self.warmup_epochs:g} epochs, "
                f"{_schedule_words(self.schedule, self.boundaries, self.decay)}, weight decay "
                f"{self.weight_decay:g}, label smoothing {self.label_smoothing:g}, "
                f"{self.epochs} epochs, batch {self.batch_size}{size}")


def _options_words(options: Any) -> str:
    listed = ", ".join(f"{key} {value}" for key, value in options)
    return f" ({listed})" if listed else ""


def _schedule_words(schedule: str, boundaries: tuple[float, ...], decay: float) -> str:
    if schedule == "piecewise":
        at = ", ".join(f"{b:.0%}" for b in boundaries)
        return f"x{decay:g} at {at} of the run"
    return schedule


#: the recipe of a network whose record has none: momentum SGD with warm-up and a cosine decay
#: (Goyal et al. 2017's linear scaling, Loshchilov & Hutter's cosine), which trains networks
#: with batch norm from scratch; networks without it carry a recipe of their own.
GENERIC = Recipe(source="generic recipe (momentum 0.9, 0.1 per 256 images, warm-up, cosine)")


def for_network(name: str) -> Recipe:
    """The recipe of network ``name``: its record's, else :data:`GENERIC`."""
    from mox_core.plugins import registry

    return registry("networks").get(name).recipe or GENERIC


@dataclasses.dataclass(frozen=True)
class TrainingPlan:
    """The settings one ``mox train`` run uses: a recipe with the user's options applied.

    ``given`` names the settings the user set (shown as such in :meth:`describe`).
    """

    network: str
    recipe: Recipe
    optimizer: str
    optimizer_options: dict[str, Any]
    learning_rate: float
    schedule: str
    warmup_steps: int
    total_steps: int
    steps_per_epoch: float
    weight_decay: float
    label_smoothing: float
    global_batch: int
    image_size: int
    fine_tuning: bool
    given: frozenset[str]
    batch_norm_decay: float | None = None

    def describe(self) -> str:
        """One line: what this run trains with, and where each setting came from."""
        mark = {name: " (given)" for name in self.given}
        tuned = " (fine-tuning)" if self.fine_tuning else ""
        options = _options_words(self.optimizer_options.items())
        warmup = f"warm-up {self.warmup_steps} steps, " if self.warmup_steps else ""
        schedule = _schedule_words(self.schedule, self.recipe.boundaries, self.recipe.decay)
        origin = self.recipe.source or f"{self.network}'s recipe"
        decay = (f"batch-norm decay {self.batch_norm_decay:g}, "
                 if self.batch_norm_decay is not None else "")
        return (f"Recipe for {self.network}{tuned}: {self.optimizer}{options}"
                f"{mark.get('optimizer', '')}, learning rate {self.learning_rate:.4g}"
                f"{mark.get('learning_rate', '')}, {warmup}{schedule}"
                f"{mark.get('schedule', '')} over {self.total_steps} steps, weight decay "
                f"{self.weight_decay:g}{mark.get('weight_decay', '')}, label smoothing "
                f"{self.label_smoothing:g}{mark.get('label_smoothing', '')}, "
                f"{decay}batch {self.global_batch}, image {self.image_size} [{origin}]")

    def learning_rate_tensor(self) -> Any:
        """The rate at the current global step, a float32 tensor of the default graph:
        linear warm-up from 0 over ``warmup_steps``, then the schedule over the rest."""
        import tensorflow.compat.v1 as tf

        with tf.name_scope("recipe_lr"):
            step = tf.cast(tf.train.get_or_create_global_step(), tf.float32)
            peak = tf.constant(self.learning_rate, tf.float32)
            warm = float(self.warmup_steps)
            span = float(max(self.total_steps - self.warmup_steps, 1))
            progress = tf.clip_by_value((step - warm) / span, 0.0, 1.0)
            if self.schedule == "cosine":
                rate = 0.5 * peak * (1.0 + tf.cos(math.pi * progress))
            elif self.schedule == "piecewise":
                passed = tf.add_n([tf.cast(progress >= b, tf.float32)
                                   for b in self.recipe.boundaries])
                rate = peak * tf.pow(self.recipe.decay, passed)
            else:
                rate = peak
            if self.warmup_steps:
                rate = tf.where(step < warm, peak * (step + 1.0) / warm, rate)
            return tf.identity(rate, name="learning_rate")


def plan(network: str, recipe: Recipe, *, num_samples: int, global_batch: int,
         image_size: int, max_steps: int | None = None, epochs: int | None = None,
         optimizer: str | None = None, learning_rate: float | None = None,
         schedule: str | None = None, weight_decay: float | None = None,
         label_smoothing: float | None = None, warmup_epochs: float | None = None,
         fine_tuning: bool = False,
         default_batch_norm_decay: float | None = None) -> TrainingPlan:
    """``recipe`` with the user's settings (``None``: not given) for a run over
    ``num_samples`` images in global batches of ``global_batch``.

    The run lasts ``max_steps``, else ``epochs`` (else the recipe's) epochs. Choosing another
    optimizer than the recipe's without a rate gives that optimizer's standard rate
    (:data:`STANDARD_RATES`), not the recipe's. A rate given is used as it is; the recipe's is
    scaled to the batch, and by ``fine_tune_rate`` when ``fine_tuning``.
    ``default_batch_norm_decay``: the network family's (``None``: it has no batch norm);
    the plan's is :func:`batch_norm_decay_for` the run.
    """
    given = {name for name, value in (
        ("optimizer", optimizer), ("learning_rate", learning_rate), ("schedule", schedule),
        ("weight_decay", weight_decay), ("label_smoothing", label_smoothing),
        ("warmup_epochs", warmup_epochs)) if value is not None}
    if schedule is not None and schedule not in SCHEDULES:
        raise ValueError(f"--schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if schedule == "piecewise" and not recipe.boundaries:
        raise ValueError(f"--schedule piecewise: {network}'s recipe has no decay boundaries; "
                         f"use --lr-strategy to give a piecewise rate by epoch")
    if label_smoothing is not None and not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"--label-smoothing must be in [0, 1), got {label_smoothing}")
    if warmup_epochs is not None and (not math.isfinite(warmup_epochs) or warmup_epochs < 0):
        raise ValueError(f"--warmup-epochs must be a finite number >= 0, got {warmup_epochs}")
    steps_per_epoch = num_samples / global_batch
    if max_steps is None:
        run_epochs = recipe.epochs if epochs is None else epochs
        if run_epochs < 1:
            raise ValueError(f"--epochs must be at least 1, got {run_epochs}")
        max_steps = max(1, math.ceil(run_epochs * steps_per_epoch))
    if max_steps < 1:
        raise ValueError(f"--max-steps must be at least 1, got {max_steps}")
    chosen = optimizer or recipe.optimizer
    same_optimizer = chosen == recipe.optimizer
    options = dict(recipe.optimizer_options) if same_optimizer else (
        {"momentum": 0.9} if chosen == "momentum" else {})
    if learning_rate is not None:
        rate = learning_rate
    elif same_optimizer:
        rate = recipe.learning_rate * global_batch / recipe.reference_batch
        if fine_tuning:
            rate *= recipe.fine_tune_rate
    else:
        rate = STANDARD_RATES.get(chosen, 0.01) * (recipe.fine_tune_rate if fine_tuning else 1)
    warm_epochs = recipe.warmup_epochs if warmup_epochs is None else warmup_epochs
    if fine_tuning and warmup_epochs is None:
        warm_epochs = 0.0  # a trained network needs no warm-up
    warmup = min(round(warm_epochs * steps_per_epoch), int(MAX_WARMUP_SHARE * max_steps))
    return TrainingPlan(
        network=network, recipe=recipe, optimizer=chosen, optimizer_options=options,
        learning_rate=rate, schedule=schedule or recipe.schedule, warmup_steps=warmup,
        total_steps=max_steps, steps_per_epoch=steps_per_epoch,
        weight_decay=recipe.weight_decay if weight_decay is None else weight_decay,
        label_smoothing=recipe.label_smoothing if label_smoothing is None else label_smoothing,
        global_batch=global_batch, image_size=image_size, fine_tuning=fine_tuning,
        given=frozenset(given),
        batch_norm_decay=batch_norm_decay_for(max_steps, default_batch_norm_decay))


def batch_norm_decay_for(total_steps: int, default: float | None) -> float | None:
    """The batch-norm decay of a run of ``total_steps`` steps: the family's ``default``,
    lowered when its moving averages would not settle within the run. An average with decay
    ``d`` spans about ``1 / (1 - d)`` steps; this keeps it within the last tenth of the run
    (and at least 0.9). MobileNet's 0.9997 spans 3,300 steps: after a 1,500-step run its
    averages still hold most of their initial values, and evaluation sees noise."""
    if default is None:
        return None
    return min(default, max(0.9, 1.0 - 10.0 / total_steps))
