"""Talking to OpenAI-compatible chat endpoints (OpenAI, vLLM, SGLang): timeouts, retries, a response cache.

Shared by the API-served agent policy (`bao.policies.openai_api`) and meant for LLM-backed simulated users, so
both retry, time out and cache alike. It imports nothing else from bao, so any layer may use it.
"""

from bao.llm_client.cache import ResponseCache
from bao.llm_client.client import ChatClient, ClientConfig, LLMError, RequestRejected

__all__ = ["ChatClient", "ClientConfig", "LLMError", "RequestRejected", "ResponseCache"]
