"""Recurrent layers: RNN and its cells, SimpleRNN, LSTM, GRU, Bidirectional, ConvLSTM1D/2D/3D
(re-exports only)."""
from tensorweave.keras.layers.rnn.bidirectional import Bidirectional
from tensorweave.keras.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from tensorweave.keras.layers.rnn.gru import GRU, GRUCell
from tensorweave.keras.layers.rnn.lstm import LSTM, LSTMCell
from tensorweave.keras.layers.rnn.rnn import RNN
from tensorweave.keras.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from tensorweave.keras.layers.rnn.stacked_rnn_cells import StackedRNNCells
