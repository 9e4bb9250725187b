"""Training on the label system: classification pre-training (timm), detection (mmdet), linear
probes and the paper's active-annotation study.

Modules:

* :mod:`~bamboo.training.config`: :class:`~bamboo.training.config.TrainConfig`, the classification
  recipe, from YAML and ``key=value`` overrides;
* :mod:`~bamboo.training.overrides`: the one ``key=value`` parser of every config, typed by its fields;
* :mod:`~bamboo.training.data`: training data from image folders, meta files or the active-learning
  loop's state;
* :mod:`~bamboo.training.cls`: classification training (one process or DDP via ``torchrun``);
* :mod:`~bamboo.training.hierarchy`: the semantic softmax loss over the levels of a taxonomy;
* :mod:`~bamboo.training.det`: detection training with mmdet (imported lazily);
* :mod:`~bamboo.training.probe`: linear-probe evaluation of frozen features on downstream sets;
* :mod:`~bamboo.training.study`: the active-annotation study (Fig. 6a) on real images.
"""
