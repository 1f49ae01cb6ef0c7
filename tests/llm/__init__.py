"""Tests of chatthy.llm, through the official SDKs against tests.fakes."""
