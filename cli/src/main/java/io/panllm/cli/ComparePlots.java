package io.panllm.cli;

import io.panllm.runtime.compare.AtomicFiles;
import io.panllm.runtime.compare.FormatResult;
import io.panllm.runtime.compare.MarkdownReport;
import io.panllm.runtime.compare.StudyResult;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Ellipse2D;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.text.DecimalFormat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.Axis;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.labels.XYItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The PNG plots of a comparison (JFreeChart, rendered headless): accuracy against bits per weight
 * with each point named by its type, and generation speed per type as bars.
 */
final class ComparePlots {
    static {
        // Before any AWT class looks for a display: the plots are drawn off-screen, with or without one.
        System.setProperty("java.awt.headless", "true");
    }

    private static final int WIDTH = 900;
    private static final int HEIGHT = 560;
    private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 14);
    private static final Color POINTS = new Color(0x1f, 0x77, 0xb4);

    private ComparePlots() {
    }

    /** Writes the plots the figures allow into {@code dir} and returns them for the report. */
    static List<MarkdownReport.Plot> write(StudyResult study, Path dir) throws IOException {
        List<MarkdownReport.Plot> plots = new ArrayList<>();
        String model = study.settings().input().getFileName().toString();
        if (scatter(study, dir.resolve("perplexity.png"), "Perplexity vs bits per weight: " + model, "perplexity",
                FormatResult::perplexity, false)) {
            plots.add(new MarkdownReport.Plot("perplexity.png", "perplexity against bits per weight"));
        }
        if (study.base() != null && scatter(study, dir.resolve("kld.png"), "KL divergence from " + study.base() + " vs bits per weight: "
                + model, "mean KLD (log scale)", r -> r.format().equals(study.base()) ? null : r.meanKld(), true)) {
            plots.add(new MarkdownReport.Plot("kld.png", "KL divergence against bits per weight"));
        }
        if (bars(study, dir.resolve("speed.png"), model)) {
            plots.add(new MarkdownReport.Plot("speed.png", "generation speed per type"));
        }
        return plots;
    }

    /**
     * Accuracy (y) against bits per weight (x), one labelled point per measured type; false when
     * no type has both. Each point is its own series so that its name can sit above it, or below
     * when a neighbour close by sits higher (q4_0 and iq4_nl have the same size).
     */
    private static boolean scatter(StudyResult study, Path file, String title, String yLabel,
                                   Function<FormatResult, Double> y, boolean logScale) throws IOException {
        XYSeriesCollection points = new XYSeriesCollection();
        for (FormatResult r : study.results()) {
            Double v = y.apply(r);
            if (r.bitsPerWeight() != null && v != null && (!logScale || v > 0)) {
                XYSeries series = new XYSeries(r.format());
                series.add(r.bitsPerWeight(), v);
                points.addSeries(series);
            }
        }
        if (points.getSeriesCount() == 0) {
            return false;
        }
        JFreeChart chart = ChartFactory.createScatterPlot(title, "bits per weight (all tensors)", yLabel,
                points, PlotOrientation.VERTICAL, false, false, false);
        XYPlot plot = chart.getXYPlot();
        if (logScale) {
            LogAxis axis = new LogAxis(yLabel);
            axis.setTickUnit(new NumberTickUnit(1)); // one tick per decade: 10^-3, 10^-2 ...
            plot.setRangeAxis(axis);
        } else {
            ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        }
        ((NumberAxis) plot.getDomainAxis()).setAutoRangeIncludesZero(false);
        plot.getDomainAxis().setLowerMargin(0.08);
        plot.getDomainAxis().setUpperMargin(0.12);
        plot.getRangeAxis().setUpperMargin(0.1);
        plot.getRangeAxis().setLowerMargin(0.1);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(false, true);
        XYItemLabelGenerator names = (dataset, series, item) -> dataset.getSeriesKey(series).toString();
        ItemLabelPosition above = new ItemLabelPosition(ItemLabelAnchor.OUTSIDE12, TextAnchor.BOTTOM_CENTER);
        ItemLabelPosition below = new ItemLabelPosition(ItemLabelAnchor.OUTSIDE6, TextAnchor.TOP_CENTER);
        for (int i = 0; i < points.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, POINTS);
            renderer.setSeriesShape(i, new Ellipse2D.Double(-5, -5, 10, 10));
            renderer.setSeriesItemLabelGenerator(i, names);
            renderer.setSeriesItemLabelsVisible(i, true);
            renderer.setSeriesItemLabelFont(i, LABEL_FONT);
            renderer.setSeriesPositiveItemLabelPosition(i, hasHigherNeighbour(points, i) ? below : above);
        }
        plot.setRenderer(renderer);
        style(chart);
        save(chart, file);
        return true;
    }

    /** True when another point lies within 3 % of the x range and above this one. */
    private static boolean hasHigherNeighbour(XYSeriesCollection points, int i) {
        double xRange = Math.max(1e-9, points.getDomainUpperBound(false) - points.getDomainLowerBound(false));
        double x = points.getXValue(i, 0);
        double y = points.getYValue(i, 0);
        for (int j = 0; j < points.getSeriesCount(); j++) {
            double dx = Math.abs(points.getXValue(j, 0) - x) / xRange;
            if (j != i && dx < 0.03 && (points.getYValue(j, 0) > y || points.getYValue(j, 0) == y && j < i)) {
                return true;
            }
        }
        return false;
    }

    /** Generation (tg) tok/s per type as bars, with the value on each bar; false when nothing ran. */
    private static boolean bars(StudyResult study, Path file, String model) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        String series = "tg" + study.settings().bench().genTokens();
        for (FormatResult r : study.results()) {
            if (r.genTokensPerSecond() != null) {
                data.addValue(r.genTokensPerSecond(), series, r.format());
            }
        }
        if (data.getColumnCount() == 0) {
            return false;
        }
        JFreeChart chart = ChartFactory.createBarChart("Generation speed (" + series + "): " + model, "type",
                "tokens per second", data, PlotOrientation.VERTICAL, false, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        BarRenderer renderer = (BarRenderer) plot.getRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setSeriesPaint(0, POINTS);
        renderer.setMaximumBarWidth(0.12);
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new DecimalFormat("0")));
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setDefaultItemLabelFont(LABEL_FONT);
        plot.getRangeAxis().setUpperMargin(0.12);
        plot.getDomainAxis().setTickLabelFont(LABEL_FONT);
        style(chart);
        save(chart, file);
        return true;
    }

    private static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        var plot = chart.getPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlinePaint(Color.GRAY);
        if (plot instanceof XYPlot xy) {
            grid(xy.getDomainAxis(), xy.getRangeAxis());
            xy.setDomainGridlinePaint(Color.LIGHT_GRAY);
            xy.setRangeGridlinePaint(Color.LIGHT_GRAY);
            xy.setDomainGridlineStroke(new BasicStroke(1f));
            xy.setRangeGridlineStroke(new BasicStroke(1f));
        } else if (plot instanceof CategoryPlot c) {
            grid(c.getDomainAxis(), c.getRangeAxis());
            c.setRangeGridlinePaint(Color.LIGHT_GRAY);
            c.setRangeGridlineStroke(new BasicStroke(1f));
        }
    }

    private static void grid(Axis x, Axis y) {
        Font axisFont = new Font(Font.SANS_SERIF, Font.PLAIN, 15);
        Font tickFont = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
        x.setLabelFont(axisFont);
        y.setLabelFont(axisFont);
        y.setTickLabelFont(tickFont);
        if (x instanceof ValueAxis) {
            x.setTickLabelFont(tickFont);
        }
    }

    /** PNG through a temporary file, like the rest of the report. */
    private static void save(JFreeChart chart, Path file) throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(png, chart, WIDTH, HEIGHT);
        AtomicFiles.write(file, png.toByteArray());
    }
}
