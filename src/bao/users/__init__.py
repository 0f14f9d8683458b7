"""Simulated users: offline (knowledge sheets + matchers, no LLM) and, later, LLM-backed."""
