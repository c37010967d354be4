"""brief-agent: turn a pile of sources into a checked, cited editorial brief.

    from agent import draft_brief
    result = draft_brief(["examples/harbor-desalination"])
    result.status, result.brief.headline, result.report.violations
"""

from agent.api import draft_brief
from agent.checks.run import check_brief
from agent.errors import (BriefError, ConfigError, LLMError, LLMOutputInvalid, LLMUnavailable, NoUsableSources,
                          StoreError, UsageError)
from agent.result import BriefDocument, BriefResult
from agent.schema import Brief, CheckReport, Passage, Source, Violation

__all__ = ["draft_brief", "check_brief", "Brief", "BriefDocument", "BriefResult", "CheckReport", "Passage", "Source",
           "Violation", "BriefError", "ConfigError", "LLMError", "LLMOutputInvalid", "LLMUnavailable",
           "NoUsableSources", "StoreError", "UsageError"]
