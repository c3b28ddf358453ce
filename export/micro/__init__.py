"""The TensorFlow Lite Micro target: conversion, graph rewrites and the TFLM runtime."""
