#!/usr/bin/python3
"""Writes the ONNX models tests/planner/test_onnx.cpp imports, built with the onnx package the
way an exporter lays them out (BatchNormalization, Relu, Dropout, Flatten between the layers;
bias adds; a symbolic batch). Weights carry their shapes only: the importer reads nothing else.

Usage: make_onnx.py OUT_DIR
"""
import os
import sys

import onnx
from onnx import TensorProto, helper


class Graph:
    def __init__(self, name):
        self.name, self.nodes, self.weights, self.inputs = name, [], [], []
        self.count = 0

    def weight(self, name, dims):
        t = TensorProto()
        t.name, t.data_type = name, TensorProto.FLOAT
        t.dims.extend(dims)
        self.weights.append(t)
        return name

    def op(self, op, inputs, name=None, **attrs):
        self.count += 1
        out = f"t{self.count}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name or f"{op}_{self.count}",
                                           **attrs))
        return out

    def input(self, name, dims, batch="N"):
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch] + dims))
        return name

    def conv(self, x, name, cin, cout, k, stride=1, pad=0, bn=True, relu=True):
        w = self.weight(name + ".weight", [cout, cin, k, k])
        y = self.op("Conv", [x, w], name, kernel_shape=[k, k], strides=[stride, stride],
                    pads=[pad] * 4)
        if bn:
            params = [self.weight(f"{name}.bn{i}", [cout]) for i in range(4)]
            y = self.op("BatchNormalization", [y] + params)
        return self.op("Relu", [y]) if relu else y

    def fc(self, x, name, cin, cout, relu=False, matmul=False):
        if matmul:
            y = self.op("MatMul", [x, self.weight(name + ".weight", [cin, cout])], name)
            y = self.op("Add", [y, self.weight(name + ".bias", [cout])])
        else:
            y = self.op("Gemm", [x, self.weight(name + ".weight", [cout, cin]),
                                 self.weight(name + ".bias", [cout])], name, transB=1)
        return self.op("Relu", [y]) if relu else y

    def save(self, path, output):
        out = helper.make_tensor_value_info(output, TensorProto.FLOAT, None)
        graph = helper.make_graph(self.nodes, self.name, self.inputs, [out], self.weights)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        onnx.save(model, path)


def mlp():
    g = Graph("mlp")
    x = g.input("data", [784])
    x = g.fc(x, "fc1", 784, 512, relu=True, matmul=True)
    x = g.fc(x, "fc2", 512, 256, relu=True, matmul=True)
    return g, g.fc(x, "fc3", 256, 10, matmul=True)


def cnn():
    g = Graph("tiny-cnn")
    x = g.input("data", [3, 32, 32])
    x = g.op("AveragePool", [g.conv(x, "conv1", 3, 16, 3, pad=1)], kernel_shape=[2, 2],
             strides=[2, 2])
    x = g.op("MaxPool", [g.conv(x, "conv2", 16, 32, 3, pad=1)], kernel_shape=[2, 2],
             strides=[2, 2])
    x = g.op("Flatten", [x], axis=1)
    x = g.fc(x, "fc1", 32 * 8 * 8, 64, relu=True)
    return g, g.fc(x, "fc2", 64, 10)


def block(g, x, name, cin, cout, stride):
    """A basic residual block as torchvision lays it out: conv-bn-relu, conv-bn, a projection
    when the shape changes, add, relu."""
    y = g.conv(x, name + "_a", cin, cout, 3, stride, 1)
    y = g.conv(y, name + "_b", cout, cout, 3, 1, 1, relu=False)
    short = x if stride == 1 and cin == cout else \
        g.conv(x, name + "_proj", cin, cout, 1, stride, 0, relu=False)
    return g.op("Relu", [g.op("Add", [y, short], name + "_add")])


def residual():
    g = Graph("residual-block")
    x = g.input("data", [16, 8, 8])
    x = block(g, x, "b1", 16, 16, 1)
    x = block(g, x, "b2", 16, 32, 2)
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    return g, g.fc(x, "fc", 32, 10)


def resnet18():
    g = Graph("resnet18")
    x = g.input("data", [3, 224, 224])
    x = g.conv(x, "conv1", 3, 64, 7, 2, 3)
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for stage, cout in zip(range(2, 6), (64, 128, 256, 512)):
        for b in (1, 2):
            stride = 2 if b == 1 and stage > 2 else 1
            x = block(g, x, f"s{stage}b{b}", cin, cout, stride)
            cin = cout
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    return g, g.fc(x, "fc", 512, 1000)


def vgg16():
    g = Graph("vgg16")
    x = g.input("data", [3, 224, 224], batch=1)
    cin, n = 3, 0
    for cout, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(convs):
            n += 1
            x = g.conv(x, f"conv{n}", cin, cout, 3, 1, 1, bn=False)
            cin = cout
        x = g.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = g.op("Flatten", [x], axis=1)
    x = g.op("Dropout", [g.fc(x, "fc1", 512 * 7 * 7, 4096, relu=True)])
    x = g.op("Dropout", [g.fc(x, "fc2", 4096, 4096, relu=True)])
    return g, g.fc(x, "fc3", 4096, 1000)


def bad_models(out):
    """Models the importer must refuse, each with the reason it must name."""
    g = Graph("unsupported")
    x = g.conv(g.input("data", [3, 8, 8]), "c", 3, 4, 3)
    g.save(os.path.join(out, "unsupported.onnx"), g.op("LRN", [x], "norm", size=3))
    g = Graph("dynamic")
    g.inputs.append(helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, "H", 8]))
    g.save(os.path.join(out, "dynamic.onnx"), g.conv("data", "c", 3, 4, 3))
    g = Graph("grouped")
    x = g.input("data", [4, 8, 8])
    w = g.weight("w", [4, 2, 3, 3])
    g.save(os.path.join(out, "grouped.onnx"), g.op("Conv", [x, w], "gconv", group=2))
    model = open(os.path.join(out, "resnet18.onnx"), "rb").read()
    open(os.path.join(out, "truncated.onnx"), "wb").write(model[: len(model) // 2])
    open(os.path.join(out, "garbage.onnx"), "wb").write(b"\xff" * 64 + b"not a model")
    open(os.path.join(out, "deep.onnx"), "wb").write(deeply_nested(5000))


def field(number, payload):
    """A length-delimited protobuf field."""
    key, size = bytes([number << 3 | 2]), len(payload)
    length = bytearray()
    while True:
        length.append(size & 0x7F | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            return key + bytes(length) + payload


def deeply_nested(depth):
    """A model whose graph input's type is a sequence of sequences `depth` deep: valid wire
    format that a recursive reader without a limit would overflow its stack on."""
    t = b""
    for _ in range(depth):
        t = field(4, field(1, t))  # TypeProto.sequence_type { elem_type: t }
    return field(7, field(11, field(2, t)))  # ModelProto.graph.input[0].type


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for make in (mlp, cnn, residual, resnet18, vgg16):
        g, y = make()
        g.save(os.path.join(out, g.name + ".onnx"), y)
    bad_models(out)


if __name__ == "__main__":
    main()
