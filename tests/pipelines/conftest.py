"""The training tests share the tiny-model fixtures of the policy tests."""

from tests.policies.conftest import one_torch_thread, tiny  # noqa: F401
