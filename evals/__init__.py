"""Evaluations of Viva's output quality against labelled data, with the real models."""
