"""The lecture's results beyond backpropagation, as code.

- :mod:`~mlplab.theory.perceptron`: the perceptron learning rule on the logic gates;
- :mod:`~mlplab.theory.separability`: linear separability decided exactly, with a
  Farkas certificate (an LP) when no single neuron can do it (XOR);
- :mod:`~mlplab.theory.linear`: least squares and polynomial regression, and their cost;
- :mod:`~mlplab.theory.approx`: universal approximation by sums of steps.
"""
