"""Fine-tune Whisper for a language pack: config, language tokens, data, training.

`voice asr finetune CONFIG.yaml` runs `finetune(load_config(...))`; heavy imports (torch,
transformers, peft) happen inside the functions, so importing this package stays cheap.
"""

from voice.asr.finetune.config import FinetuneConfig, load_config
from voice.asr.finetune.tokens import LanguageTokenPlan, plan_from_pack, token_cost


def finetune(config: FinetuneConfig, resume: bool = True, callbacks: list | None = None):
    from voice.asr.finetune.train import finetune as _finetune

    return _finetune(config, resume=resume, callbacks=callbacks)


__all__ = ["FinetuneConfig", "LanguageTokenPlan", "finetune", "load_config", "plan_from_pack", "token_cost"]
